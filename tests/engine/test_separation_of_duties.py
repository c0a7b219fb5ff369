"""Separation of duties declared on a user task (camunda:property signoff:not): enforced when completing,
explained in the inbox, checked at deploy."""

import pytest

from engine.errors import DeployError, NotAllowed
from engine.services.context import SYSTEM
from engine.services.delegation import set_delegation
from engine.services.deployments import deploy_file
from engine.services.inbox import list_inbox
from engine.services.instances import complete_task
from tests.conftest import ROOT
from tests.engine.helpers import instance
from tests.engine.ops_world import OPS_FILE, task_at

SENDER = "You sent this work for approval, so someone else must approve it"
PREVIOUS = "You completed the previous step of this case, so someone else must complete this one"


def inbox_entry(ctx, actor, task_id: int) -> dict:
    return next(task for task in list_inbox(ctx, actor) if task["id"] == task_id)


def test_the_previous_approver_cannot_complete_the_next_step(ctx, world):
    iid = world.start(ctx)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {}, world.max.actor)
    approve = task_at(ctx, iid, "approve_work")
    assert inbox_entry(ctx, world.max.actor, approve)["not_offered"] == PREVIOUS
    assert inbox_entry(ctx, world.admin.actor, approve)["not_offered"] == ""
    with pytest.raises(NotAllowed, match=PREVIOUS):
        complete_task(ctx, approve, {}, world.max.actor)
    complete_task(ctx, approve, {}, world.admin.actor)
    assert task_at(ctx, iid, "sign_off")


def test_the_sender_cannot_sign_off_its_own_work(ctx, world):
    iid = world.start(ctx)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {}, world.admin.actor)
    complete_task(ctx, task_at(ctx, iid, "approve_work"), {}, world.max.actor)
    sign_off = task_at(ctx, iid, "sign_off")
    assert inbox_entry(ctx, world.max.actor, sign_off)["not_offered"] == SENDER
    with pytest.raises(NotAllowed, match=SENDER):
        complete_task(ctx, sign_off, {}, world.max.actor)
    complete_task(ctx, sign_off, {}, world.admin.actor)
    assert instance(ctx, iid).status == "completed"


def test_the_system_is_not_bound_by_the_rules(ctx, world):
    iid = world.start(ctx)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {})
    complete_task(ctx, task_at(ctx, iid, "approve_work"), {})
    complete_task(ctx, task_at(ctx, iid, "sign_off"), {})
    assert instance(ctx, iid).status == "completed"


def test_an_unknown_rule_is_refused_at_deploy_naming_the_element(ctx):
    data = (ROOT / OPS_FILE).read_bytes().replace(b'value="sender"', b'value="sender, boss"')
    with pytest.raises(DeployError, match="sign_off.*'boss' is not a rule; rules are sender, previous_approver|"
                                          "'boss' is not a rule.*sign_off"):
        deploy_file(ctx, SYSTEM, data, "ops_review.bpmn")


def test_a_stand_in_may_not_do_for_the_sender_what_the_sender_may_not_do(ctx, world, clock):
    """Mia stands in for Max, who sent the work: signing it off on his behalf would be Max signing off his own."""
    iid = world.start(ctx)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {}, world.admin.actor)
    complete_task(ctx, task_at(ctx, iid, "approve_work"), {}, world.max.actor)
    sign_off = task_at(ctx, iid, "sign_off")
    today = clock.now.date()
    set_delegation(ctx, world.admin.actor, world.max.id, world.mia.id, today, today)
    entry = inbox_entry(ctx, world.mia.actor, sign_off)
    assert entry["standing_in_for"] == "Max Manager"
    assert entry["not_offered"] == ("You would act on behalf of Max Manager: they sent this work for approval, "
                                    "so someone else must approve it")
    with pytest.raises(NotAllowed, match="You would act on behalf of Max Manager: they sent this work for approval"):
        complete_task(ctx, sign_off, {}, world.mia.actor)
    assert instance(ctx, iid).status == "running" and task_at(ctx, iid, "sign_off") == sign_off
