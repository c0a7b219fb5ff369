"""What a stand-in reaches during its period: the task page's task and case, the case story, the inbox's words,
and "who may complete it" with the stand-ins and the separation of duties."""

from datetime import timedelta

import pytest

from engine.errors import NotFound
from engine.services.case_story import get_case_story
from engine.services.delegation import set_delegation
from engine.services.inbox import get_task, list_inbox, list_inbox_customers
from engine.services.instances import complete_task
from engine.services.operations import reassign_task
from engine.services.task_context import get_task_context
from tests.engine.ops_world import task_at


def stand_in_today(ctx, world, clock, staff, stand_in, days: int = 0) -> None:
    today = clock.now.date()
    set_delegation(ctx, world.admin.actor, staff.id, stand_in.id, today, today + timedelta(days=days))


def day(value) -> str:
    return f"{value.day} {value:%b}"


def open_task(story: dict, element_id: str) -> dict:
    return next(task for task in story["open_tasks"] if task["element_id"] == element_id)


def test_without_a_period_the_other_manager_finds_neither_the_task_nor_its_case(ctx, world):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    for read in (lambda: get_task(ctx, task, world.mia.actor), lambda: get_task_context(ctx, task, world.mia.actor),
                 lambda: get_case_story(ctx, iid, world.mia.actor)):
        with pytest.raises(NotFound):
            read()


def test_a_stand_in_reads_the_task_and_the_case_it_stands_in_for(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    stand_in_today(ctx, world, clock, world.max, world.mia)
    found = get_task(ctx, task, world.mia.actor)
    assert found["standing_in_for"] == "Max Manager" and found["not_offered"] == ""
    assert get_task_context(ctx, task, world.mia.actor)["customer"]["name"] == "Mill House"
    assert get_case_story(ctx, iid, world.mia.actor)["id"] == iid
    assert get_task(ctx, task, world.max.actor)["standing_in_for"] == ""


def test_an_employee_standing_in_for_a_manager_reads_the_manager_lane_task(ctx, world, clock):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    stand_in_today(ctx, world, clock, world.max, world.eve)
    assert get_task(ctx, task, world.eve.actor)["standing_in_for"] == "Max Manager"


def test_the_inbox_row_says_whom_the_stand_in_stands_in_for(ctx, world, clock):
    iid = world.start(ctx)
    stand_in_today(ctx, world, clock, world.max, world.mia)
    [row] = list_inbox(ctx, world.mia.actor)
    assert row["instance_id"] == iid and row["standing_in_for"] == "Max Manager"
    assert [r["standing_in_for"] for r in list_inbox(ctx, world.max.actor)] == [""]


def test_the_story_says_on_behalf_of_and_the_stand_in_still_reads_the_case(ctx, world, clock):
    iid = world.start(ctx)
    stand_in_today(ctx, world, clock, world.max, world.mia)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {}, world.mia.actor)
    story = get_case_story(ctx, iid, world.mia.actor)
    assert any(line["text"] == "Mia Manager, on behalf of Max Manager completed Check the work"
               for line in story["timeline"])


def test_who_may_complete_lists_the_stand_in_with_its_period(ctx, world, clock):
    iid = world.start(ctx)
    stand_in_today(ctx, world, clock, world.max, world.mia, days=13)
    until = day(clock.now.date() + timedelta(days=13))
    check = open_task(get_case_story(ctx, iid, world.admin.actor), "check_work")
    assert check["may_complete"] == ["Ada Admin", "Max Manager",
                                     f"Mia Manager (standing in for Max Manager until {until})"]
    assert check["may_not_complete"] == []


def test_who_may_complete_leaves_out_whom_the_separation_of_duties_excludes(ctx, world, clock):
    iid = world.start(ctx)
    stand_in_today(ctx, world, clock, world.max, world.mia)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {}, world.mia.actor)  # Mia did the previous step
    approve = open_task(get_case_story(ctx, iid, world.admin.actor), "approve_work")
    assert approve["may_complete"] == ["Ada Admin", "Max Manager"]
    assert approve["may_not_complete"] == [f"not Mia Manager (standing in for Max Manager until "
                                           f"{day(clock.now.date())}): completed the previous step"]
    complete_task(ctx, task_at(ctx, iid, "approve_work"), {}, world.admin.actor)
    sign_off = open_task(get_case_story(ctx, iid, world.admin.actor), "sign_off")
    assert "Ada Admin" in sign_off["may_complete"]
    assert sign_off["may_not_complete"] == ["not Max Manager: sent the work for approval"]


def test_an_assigned_task_may_be_completed_by_its_assignee_and_its_stand_in_only(ctx, world, clock):
    iid = world.start(ctx)
    reassign_task(ctx, world.max.actor, task_at(ctx, iid, "check_work"), world.admin.id, "Ada takes it")
    stand_in_today(ctx, world, clock, world.admin, world.eve)
    check = open_task(get_case_story(ctx, iid, world.max.actor), "check_work")
    assert check["may_complete"] == ["Ada Admin", f"Eve Employee (standing in for Ada Admin until "
                                                  f"{day(clock.now.date())})"]


def test_the_inbox_customer_filter_lists_the_customers_of_the_tasks_each_is_offered(ctx, world, clock):
    """Each way a task is offered counts (lane and scope, assigned, standing in); nothing else does."""
    iid = world.start(ctx)
    mill_house = [(world.customer_id, "Mill House")]
    assert list_inbox_customers(ctx, world.max.actor) == mill_house
    assert list_inbox_customers(ctx, world.mia.actor) == []
    stand_in_today(ctx, world, clock, world.max, world.mia)
    assert list_inbox_customers(ctx, world.mia.actor) == mill_house
    reassign_task(ctx, world.max.actor, task_at(ctx, iid, "check_work"), world.admin.id, "Ada takes it")
    assert list_inbox_customers(ctx, world.admin.actor) == mill_house
    assert list_inbox_customers(ctx, world.max.actor) == []  # assigned to someone else: no longer offered to Max
    assert list_inbox_customers(ctx, world.eve.actor) == []
    stand_in_today(ctx, world, clock, world.admin, world.eve)
    assert list_inbox_customers(ctx, world.eve.actor) == mill_house
