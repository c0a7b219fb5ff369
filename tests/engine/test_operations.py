"""Operator actions: claim, reassign, fire a timer now, retry, cancel, set a variable — scope, reasons, history."""

from datetime import timedelta

import pytest

from engine.errors import ConcurrentUpdate, InvalidInput, NotAllowed, NotFound
from engine.services.case_story import get_case_story
from engine.services.context import SYSTEM
from engine.services.delegation import set_delegation
from engine.services.inbox import get_task, list_inbox
from engine.services.instances import complete_task, start_instance
from engine.services.operations import (
    cancel_case,
    claim_task,
    fire_timer_now,
    reassign_task,
    retry_instance,
    set_variable,
)
from tests.engine.helpers import JOB_START, events, instance, open_tasks, run_together, timers
from tests.engine.ops_world import OPS_FILE, task_at


def inbox_ids(ctx, actor) -> list[int]:
    return [task["id"] for task in list_inbox(ctx, actor)]


def test_claim_offers_the_task_to_the_claimer_only_and_is_in_the_history(ctx, world):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    assert task in inbox_ids(ctx, world.max.actor) and task in inbox_ids(ctx, world.admin.actor)
    claim_task(ctx, world.max.actor, task)
    assert task in inbox_ids(ctx, world.max.actor)
    assert task not in inbox_ids(ctx, world.admin.actor)
    with pytest.raises(NotAllowed, match="assigned to Max Manager"):
        complete_task(ctx, task, {}, world.admin.actor)
    with pytest.raises(InvalidInput, match="already claimed by Max Manager; reassign it instead"):
        claim_task(ctx, world.admin.actor, task)
    [claimed] = events(ctx, iid, "task_claimed")
    assert claimed.actor == "max@example.com" and claimed.element_id == "check_work"
    complete_task(ctx, task, {}, world.max.actor)
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["approve_work"]


def test_operator_actions_are_refused_to_employees_and_out_of_scope_managers(ctx, world):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    timer = timers(ctx, iid)[0].id
    started = len(events(ctx, iid))
    actions = [lambda actor: claim_task(ctx, actor, task),
               lambda actor: reassign_task(ctx, actor, task, world.admin.id, "cover"),
               lambda actor: fire_timer_now(ctx, actor, timer, "testing"),
               lambda actor: retry_instance(ctx, actor, iid, "fixed"),
               lambda actor: cancel_case(ctx, actor, iid, "duplicate"),
               lambda actor: set_variable(ctx, actor, iid, "divisor", "3", "typo")]
    for action in actions:
        with pytest.raises(NotAllowed, match="only admins and managers"):
            action(world.eve.actor)
        with pytest.raises(NotFound):
            action(world.mia.actor)
    assert instance(ctx, iid).status == "running" and open_tasks(ctx, iid)[0].assignee_staff_id is None
    assert len(events(ctx, iid)) == started


def test_reassign_needs_a_reason_and_someone_who_can_take_it(ctx, world):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    with pytest.raises(InvalidInput, match="reason: say why"):
        reassign_task(ctx, world.max.actor, task, world.admin.id, "  ")
    with pytest.raises(InvalidInput, match="reason: at most 500"):
        reassign_task(ctx, world.max.actor, task, world.admin.id, "x" * 501)
    with pytest.raises(InvalidInput, match="Mia Manager does not work for this case's customer"):
        reassign_task(ctx, world.max.actor, task, world.mia.id, "holiday")
    with pytest.raises(InvalidInput, match=r"Eve Employee \(employee\) does not work in the Manager lane"):
        reassign_task(ctx, world.max.actor, task, world.eve.id, "holiday")
    with pytest.raises(NotFound, match="no staff member 999"):
        reassign_task(ctx, world.max.actor, task, 999, "holiday")
    reassign_task(ctx, world.max.actor, task, world.admin.id, "Max is on holiday")
    assert inbox_ids(ctx, world.max.actor) == [] and inbox_ids(ctx, world.admin.actor) == [task]
    [moved] = events(ctx, iid, "task_reassigned")
    assert moved.actor == "max@example.com"
    assert moved.data == {"task_id": task, "from_staff_id": None, "to_staff_id": world.admin.id,
                          "to": "Ada Admin", "reason": "Max is on holiday"}


def test_holiday_cover_takes_a_task_of_a_customer_it_does_not_work_for(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    today = clock.now.date()
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today, today + timedelta(days=1))
    [check] = get_case_story(ctx, iid, world.admin.actor)["open_tasks"]
    assert (world.mia.id, "Mia Manager (standing in for Max Manager)") in check["reassign_to"]
    reassign_task(ctx, world.admin.actor, task, world.mia.id, "Max is away")
    clock.advance(days=3)  # the period is over: the task stays Mia's
    assert inbox_ids(ctx, world.mia.actor) == [task]
    assert get_task(ctx, task, world.mia.actor)["not_offered"] == ""
    complete_task(ctx, task, {}, world.mia.actor)
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["approve_work"]


def test_holiday_cover_needs_a_period_today_for_someone_who_could_take_the_task(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    today = clock.now.date()
    set_delegation(ctx, world.admin.actor, world.eve.id, world.mia.id, today, today)  # Eve: not of the lane
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today + timedelta(days=1),
                   today + timedelta(days=2))  # not yet
    with pytest.raises(InvalidInput, match="Mia Manager does not work for this case's customer"):
        reassign_task(ctx, world.admin.actor, task, world.mia.id, "cover")
    [check] = get_case_story(ctx, iid, world.admin.actor)["open_tasks"]
    assert all(staff_id != world.mia.id for staff_id, _name in check["reassign_to"])
    set_delegation(ctx, world.max.actor, world.max.id, world.eve.id, today, today)
    reassign_task(ctx, world.admin.actor, task, world.eve.id, "Eve covers Max")  # of the lane through Max
    assert inbox_ids(ctx, world.eve.actor) == [task]


def test_customer_lane_tasks_cannot_be_given_to_staff(ctx, world, deploy):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", {**JOB_START, "customer_id": world.customer_id})
    review = task_at(ctx, iid, "review_job")
    with pytest.raises(InvalidInput, match="in the Customer lane: the customer's contacts decide it"):
        reassign_task(ctx, world.admin.actor, review, world.max.id, "help")
    with pytest.raises(InvalidInput, match="Customer lane"):
        claim_task(ctx, world.admin.actor, review)


def test_fire_a_deadline_now_ends_the_case_through_the_runtime(ctx, world):
    iid = world.start(ctx)
    deadline = next(t for t in timers(ctx, iid) if t.element_id == "deadline")
    with pytest.raises(InvalidInput, match="reason"):
        fire_timer_now(ctx, world.max.actor, deadline.id, "")
    fire_timer_now(ctx, world.max.actor, deadline.id, "the customer asked us to close it")
    row = instance(ctx, iid)
    assert row.status == "completed" and open_tasks(ctx, iid) == [] and timers(ctx, iid) == []
    [now] = events(ctx, iid, "timer_fired_now")
    assert now.actor == "max@example.com" and now.data["reason"] == "the customer asked us to close it"
    assert [e.element_id for e in events(ctx, iid, "timer_fired")] == ["deadline"]
    with pytest.raises(NotFound):
        fire_timer_now(ctx, world.max.actor, deadline.id, "again")


def test_fire_a_reminder_now_sends_one_reminder_and_keeps_the_task(ctx, world):
    iid = world.start(ctx)
    reminder = next(t for t in timers(ctx, iid) if t.element_id == "reminder_due")
    fire_timer_now(ctx, world.admin.actor, reminder.id, "the customer is waiting")
    row = instance(ctx, iid)
    assert row.status == "running" and [t.element_id for t in open_tasks(ctx, iid)] == ["check_work"]
    assert "remind" in [e.element_id for e in events(ctx, iid, "element_completed")]
    assert {t.element_id for t in timers(ctx, iid)} == {"reminder_due", "deadline"}  # the next cycle waits


def test_retry_after_setting_the_variable_that_broke_the_script(ctx, world):
    iid = world.start(ctx, divisor=0)
    assert instance(ctx, iid).status == "error"
    with pytest.raises(InvalidInput, match="reason"):
        retry_instance(ctx, world.max.actor, iid, "")
    again = retry_instance(ctx, world.max.actor, iid, "try once more")
    assert again["status"] == "error" and "division by zero" in again["error"]
    with pytest.raises(InvalidInput, match="not a variable name"):
        set_variable(ctx, world.max.actor, iid, "1st", "5", "typo")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        set_variable(ctx, world.max.actor, iid, "divisor", "five", "typo")
    with pytest.raises(InvalidInput, match="larger than"):
        set_variable(ctx, world.max.actor, iid, "divisor", '"' + "x" * 2_000_000 + '"', "typo")
    set_variable(ctx, world.max.actor, iid, "divisor", "5", "the divisor was entered as 0")
    [changed] = events(ctx, iid, "variable_set")
    assert changed.data == {"name": "divisor", "old": 0, "new": 5, "was_set": True,
                            "reason": "the divisor was entered as 0"} and changed.actor == "max@example.com"
    done = retry_instance(ctx, world.max.actor, iid, "divisor fixed")
    assert done == {"instance_id": iid, "status": "running", "error": None, "error_element": None}
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["check_work"]
    assert instance(ctx, iid).data["share"] == 2.0
    assert [e.data["reason"] for e in events(ctx, iid, "instance_retried")] == ["try once more", "divisor fixed"]
    with pytest.raises(InvalidInput, match="not in error"):
        retry_instance(ctx, world.max.actor, iid, "again")


def test_retry_on_the_newest_version_when_its_elements_are_there(ctx, world, deploy):
    iid = world.start(ctx, divisor=0)
    with pytest.raises(InvalidInput, match="already on the newest version"):
        retry_instance(ctx, SYSTEM, iid, "fixed", newest_version=True)
    deploy(OPS_FILE, lane_roles={"Staff": "manager"})  # the same elements, a new version (2)
    set_variable(ctx, SYSTEM, iid, "divisor", "1", "fix")
    assert retry_instance(ctx, SYSTEM, iid, "on v2", newest_version=True)["status"] == "running"
    assert events(ctx, iid, "instance_retried")[0].data["version"] == 2
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["check_work"]
    assert instance(ctx, iid).process_version_id == 2


def test_cancel_with_a_reason(ctx, world):
    iid = world.start(ctx)
    with pytest.raises(InvalidInput, match="reason"):
        cancel_case(ctx, world.max.actor, iid, None)
    cancel_case(ctx, world.max.actor, iid, "sent twice")
    assert instance(ctx, iid).status == "cancelled" and open_tasks(ctx, iid) == []
    [cancelled] = events(ctx, iid, "instance_cancelled")
    assert cancelled.actor == "max@example.com" and cancelled.data == {"reason": "sent twice"}
    with pytest.raises(InvalidInput, match="not running"):
        cancel_case(ctx, world.max.actor, iid, "again")
    with pytest.raises(InvalidInput, match="can no longer change"):
        set_variable(ctx, world.max.actor, iid, "divisor", "3", "late")


def test_two_operators_claiming_at_once_exactly_one_wins(ctx, world):
    for _ in range(3):
        iid = world.start(ctx)
        task = task_at(ctx, iid, "check_work")
        results = run_together(lambda task=task: claim_task(ctx, world.max.actor, task),
                               lambda task=task: claim_task(ctx, world.admin.actor, task))
        winners = [value for value, err in results if err is None]
        assert len(winners) == 1, results
        [err] = [err for _, err in results if err is not None]
        assert isinstance(err, InvalidInput | ConcurrentUpdate) and "already claimed" in str(err), repr(err)
        assert len(events(ctx, iid, "task_claimed")) == 1
        assert open_tasks(ctx, iid)[0].assignee_staff_id == winners[0]["assignee_staff_id"]


def test_two_operators_cancelling_at_once_exactly_one_wins(ctx, world):
    iid = world.start(ctx)
    results = run_together(lambda: cancel_case(ctx, world.max.actor, iid, "one"),
                           lambda: cancel_case(ctx, world.admin.actor, iid, "two"))
    assert [err is None for _, err in results].count(True) == 1, results
    assert all(isinstance(err, InvalidInput | ConcurrentUpdate) for _, err in results if err is not None)
    assert len(events(ctx, iid, "instance_cancelled")) == 1
