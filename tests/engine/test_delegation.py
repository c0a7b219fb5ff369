"""Out-of-office delegation: a stand-in is offered the tasks of whom it stands in for, in the period only,
and what it completes is recorded on behalf of them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.bench.statements import count_statements
from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import HumanTask
from engine.services.delegation import end_delegation, list_delegations, set_delegation
from engine.services.inbox import list_inbox
from engine.services.instances import complete_task
from engine.services.operations import reassign_task
from engine.services.staff_auth import deactivate_user
from tests.engine.helpers import events, open_tasks, run_together
from tests.engine.ops_world import task_at


def inbox_ids(ctx, actor) -> list[int]:
    return [task["id"] for task in list_inbox(ctx, actor)]


def human(ctx, task_id: int) -> HumanTask:
    with ctx.uow() as uow:
        return uow.session.scalar(select(HumanTask).where(HumanTask.id == task_id))


def test_a_stand_in_is_offered_the_tasks_of_its_colleague_during_the_period_only(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    today = clock.now.date()
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today + timedelta(days=1),
                   today + timedelta(days=3))
    assert task not in inbox_ids(ctx, world.mia.actor)  # not yet
    with pytest.raises(NotFound):
        complete_task(ctx, task, {}, world.mia.actor)
    clock.advance(days=1)
    assert task in inbox_ids(ctx, world.mia.actor)
    clock.advance(days=3)  # the day after the last one
    assert task not in inbox_ids(ctx, world.mia.actor)
    with pytest.raises(NotFound):
        complete_task(ctx, task, {}, world.mia.actor)
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["check_work"]


def test_what_the_stand_in_completes_is_recorded_on_behalf_of_the_colleague(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    today = clock.now.date()
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today, today)
    complete_task(ctx, task, {}, world.mia.actor)
    done = human(ctx, task)
    assert done.completed_by == "mia@example.com" and done.on_behalf_of == "Max Manager <max@example.com>"
    [completed] = events(ctx, iid, "task_completed")
    assert completed.actor == "mia@example.com" and completed.data == {"on_behalf_of": "Max Manager <max@example.com>"}
    own = task_at(ctx, iid, "approve_work")
    complete_task(ctx, own, {}, world.max.actor)  # Max's own completion names no one
    assert human(ctx, own).on_behalf_of is None


def test_a_task_assigned_to_someone_is_offered_to_its_stand_in(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    reassign_task(ctx, world.max.actor, task, world.admin.id, "Ada takes it")
    assert task not in inbox_ids(ctx, world.mia.actor) and task not in inbox_ids(ctx, world.max.actor)
    set_delegation(ctx, world.admin.actor, world.admin.id, world.mia.id, clock.now.date(), clock.now.date())
    assert inbox_ids(ctx, world.mia.actor) == [task]
    with pytest.raises(NotAllowed, match="assigned to Ada Admin"):
        complete_task(ctx, task, {}, world.max.actor)
    complete_task(ctx, task, {}, world.mia.actor)
    assert human(ctx, task).on_behalf_of == "Ada Admin <ada@example.com>"


def test_bad_periods_are_refused_by_name(ctx, world, clock):
    today = clock.now.date()
    cases = [
        (world.max.id, world.mia.id, today, today - timedelta(days=1), "ends_on: .* is before starts_on"),
        (world.max.id, world.max.id, today, today, "cannot stand in for itself"),
        (world.max.id, world.mia.id, "next monday", today, "starts_on: not a date"),
        (world.max.id, world.mia.id, today, "", "ends_on: a date is required"),
        (world.max.id, world.mia.id, today, today + timedelta(days=400), "at most 366 days"),
    ]
    for staff_id, stand_in_id, start, end, message in cases:
        with pytest.raises(InvalidInput, match=message):
            set_delegation(ctx, world.max.actor, staff_id, stand_in_id, start, end)
    deactivate_user(ctx, world.mia.id)
    with pytest.raises(InvalidInput, match="stand_in: Mia Manager is not active"):
        set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today, today)
    with pytest.raises(NotAllowed, match="only the staff member itself or an admin"):
        set_delegation(ctx, world.eve.actor, world.max.id, world.admin.id, today, today)
    assert list_delegations(ctx, world.max.actor, world.max.id) == []


def test_a_period_can_be_ended_early(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    today = clock.now.date()
    made = set_delegation(ctx, world.admin.actor, world.max.id, world.mia.id, today - timedelta(days=2), today)
    assert [d["stand_in"] for d in list_delegations(ctx, world.mia.actor, world.mia.id)] == ["Mia Manager"]
    assert task in inbox_ids(ctx, world.mia.actor)
    end_delegation(ctx, world.max.actor, made["id"])
    assert task not in inbox_ids(ctx, world.mia.actor)
    with pytest.raises(NotFound):
        end_delegation(ctx, world.max.actor, 999)


def test_the_inbox_of_a_stand_in_is_still_one_statement(ctx, world, clock):
    iid = world.start(ctx)
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, clock.now.date(), clock.now.date())
    with count_statements(ctx) as seen:
        page = list_inbox(ctx, world.mia.actor)
    assert [task["instance_id"] for task in page] == [iid]
    assert seen.count == 1, seen.statements


def test_a_period_saved_twice_or_by_two_requests_at_once_is_one_period(ctx, world, clock):
    today = clock.now.date()
    save = lambda: set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today,  # noqa: E731
                                  today + timedelta(days=14))
    results = run_together(save, save)
    assert sorted(error is None for _, error in results) == [False, True]
    (_, error), = [result for result in results if result[1] is not None]
    assert isinstance(error, InvalidInput) and "Mia Manager already stands in for Max Manager from" in str(error)
    with pytest.raises(InvalidInput, match="already stands in"):  # an overlapping period, pressed again later
        set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today + timedelta(days=3),
                       today + timedelta(days=20))
    assert len(list_delegations(ctx, world.max.actor, world.max.id)) == 1
    set_delegation(ctx, world.max.actor, world.max.id, world.admin.id, today, today)  # another stand-in may
