"""Tasks and cases follow the staff member's customers (engine.services.staff_scope.actor_sees), on SQLite and
PostgreSQL: a manager sees and completes only the Manager-lane tasks of its own customers' cases, a case page is
shown only to staff who see its customer, and anything else is "not found", as an id that does not exist."""

import pytest

from engine.errors import NotAllowed, NotFound
from engine.models import CustomerEmployee
from engine.services import customers, jobs
from engine.services.context import SYSTEM
from engine.services.inbox import get_instance, get_task, list_inbox, list_open_tasks
from engine.services.instances import cancel_instance, complete_task, start_instance
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.conftest import STAFF_PASSWORD
from tests.engine.helpers import JOB_START, instance, outbox


@pytest.fixture
def world(ctx, deploy, clock, admin_staff, manager_staff, employee_staff):
    """Two managers with a customer each (one as account manager, one as manager of a job only), both with an
    escalated job approval waiting in the Manager lane; the employee works for the first customer."""
    deploy("bpmn/job_approval.bpmn")
    bo = create_staff_user(ctx, "bo.manager@example.com", "Bo Manager", "manager", STAFF_PASSWORD)
    own = customers.create_customer(ctx, staff=manager_staff, name="Acme Cleaning")["id"]
    foreign = customers.create_customer(ctx, staff=admin_staff, name="Bolt Windows")["id"]
    job = jobs.create_job(ctx, foreign, staff=admin_staff, name="Gutters", manager_id=bo.id)["id"]
    with ctx.uow() as uow:
        uow.session.add(CustomerEmployee(customer_id=own, employee_id=employee_staff.id))
        uow.commit()
    cases = {}
    for name, customer_id, job_id in (("own", own, 1), ("foreign", foreign, job)):
        cases[name] = start_instance(ctx, "job_approval", {**JOB_START, "customer_id": customer_id, "job_id": job_id,
                                                          "period_end_action": "escalate"})
    fire_due_timers(ctx, clock.advance(days=8))
    tasks = {name: list_open_tasks(ctx, iid)[0]["id"] for name, iid in cases.items()}
    return {"bo": bo, "cases": cases, "tasks": tasks}


def test_a_manager_inbox_lists_only_its_own_customers_tasks(ctx, world, manager_staff, admin_staff):
    mine = [t["id"] for t in list_inbox(ctx, manager_staff.actor)]
    assert mine == [world["tasks"]["own"]]
    assert [t["id"] for t in list_inbox(ctx, world["bo"].actor)] == [world["tasks"]["foreign"]]
    assert sorted(t["id"] for t in list_inbox(ctx, admin_staff.actor)) == sorted(world["tasks"].values())
    assert [t["id"] for t in list_open_tasks(ctx, actor=manager_staff.actor)] == [world["tasks"]["own"]]


def test_another_managers_task_is_not_found_and_cannot_be_completed(ctx, world, manager_staff):
    foreign_task, foreign_case = world["tasks"]["foreign"], world["cases"]["foreign"]
    mails = outbox(ctx, foreign_case)
    with pytest.raises(NotFound):
        get_task(ctx, foreign_task, manager_staff.actor)
    with pytest.raises(NotFound):
        complete_task(ctx, foreign_task, {"decision": "approve", "comment": "mine now"}, manager_staff.actor)
    assert instance(ctx, foreign_case).case_status == "escalated"
    assert outbox(ctx, foreign_case) == mails  # nothing was mailed to the other manager's customer
    assert get_task(ctx, world["tasks"]["own"], manager_staff.actor)["status"] == "open"


def test_the_manager_of_a_job_completes_its_customers_task(ctx, world):
    bo, case = world["bo"], world["cases"]["foreign"]
    complete_task(ctx, world["tasks"]["foreign"], {"decision": "approve", "comment": ""}, bo.actor)
    assert instance(ctx, case).case_status == "approved"


def test_case_pages_follow_the_customer_scope(ctx, world, manager_staff, employee_staff, admin_staff):
    own, foreign = world["cases"]["own"], world["cases"]["foreign"]
    assert get_instance(ctx, own, manager_staff.actor)["id"] == own
    assert get_instance(ctx, own, employee_staff.actor)["id"] == own
    assert get_instance(ctx, foreign, admin_staff.actor)["id"] == foreign
    for actor in (manager_staff.actor, employee_staff.actor):
        with pytest.raises(NotFound):
            get_instance(ctx, foreign, actor)
    assert get_instance(ctx, foreign)["id"] == foreign  # the system (CLI, timers) sees every case


def test_an_employee_may_not_complete_a_manager_lane_task_of_its_own_customer(ctx, world, employee_staff):
    with pytest.raises(NotAllowed):
        complete_task(ctx, world["tasks"]["own"], {"decision": "approve", "comment": ""}, employee_staff.actor)
    with pytest.raises(NotFound):
        get_task(ctx, world["tasks"]["foreign"], employee_staff.actor)
    assert list_inbox(ctx, employee_staff.actor) == []


def test_cancelling_another_managers_case_is_not_found(ctx, world, manager_staff):
    with pytest.raises(NotFound):
        cancel_instance(ctx, world["cases"]["foreign"], manager_staff.actor, "not mine")
    assert instance(ctx, world["cases"]["foreign"]).status == "running"
    cancel_instance(ctx, world["cases"]["foreign"], SYSTEM, "by the operator")
    assert instance(ctx, world["cases"]["foreign"]).status == "cancelled"


def test_a_case_without_customer_is_for_admins_and_the_system_only(ctx, world, manager_staff, admin_staff):
    iid = start_instance(ctx, "job_approval", {**JOB_START, "customer_id": None})
    with pytest.raises(NotFound):
        get_instance(ctx, iid, manager_staff.actor)
    assert get_instance(ctx, iid, admin_staff.actor)["id"] == iid
