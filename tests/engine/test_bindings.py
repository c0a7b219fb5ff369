"""Bindings: which process runs a customer's job approvals, what a binding is checked for, and who may bind."""

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import WorkflowInstance
from engine.services import approval_board, approvals, bindings, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_process
from engine.services.portal_views import list_review_tasks
from engine.services.staff_auth import create_staff_user
from tests.approval_fixtures import PASSWORD, contact

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "bpmn/job_approval.bpmn").read_bytes()
TWO_STEP = SHIPPED.replace(b'id="job_approval" name="Job approval"', b'id="job_approval_two_step" name="Two-step"')


def _deploy(ctx, data: bytes, name: str) -> str:
    return deploy_process(ctx, data, name).process_id


def _instance(ctx, instance_id: int) -> WorkflowInstance:
    with ctx.uow() as uow:
        return uow.session.get(WorkflowInstance, instance_id)


def test_the_company_defaults_are_the_shipped_processes(ctx, office):
    admin, _ = office
    found = bindings.list_bindings(ctx, admin.actor)
    assert found.company == {"job": "job_approval", "timesheet": "timesheet_approval"}
    assert found.per_customer == {}


def test_a_job_starts_the_process_bound_to_its_customer_and_the_board_and_portal_show_it(ctx, office, customer, job):
    admin, manager = office
    _deploy(ctx, TWO_STEP, "job_approval_two_step.bpmn")
    other = customers.create_customer(ctx, staff=manager, name="Other Ltd", contact_name="Olga",
                                      contact_email="olga@other.example")
    customers.set_portal_access(ctx, other["id"], True, staff=manager)
    other_job = jobs.create_job(ctx, other["id"], staff=manager, name="Gutters", manager_id=manager.id,
                                requires_customer_approval=True)
    bindings.bind_process(ctx, manager.actor, "job", "job_approval_two_step", customer["id"])

    bound = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    default = approvals.send_job_for_approval(ctx, other_job["id"], staff=manager)

    assert (_instance(ctx, bound).process_id, _instance(ctx, bound).case_type) == ("job_approval_two_step", "job")
    assert (_instance(ctx, default).process_id, _instance(ctx, default).case_type) == ("job_approval", "job")
    board = approval_board.list_approvals(ctx, staff=manager, customer_id=customer["id"])
    assert [(row["id"], row["kind"]) for row in board] == [(bound, "Job")]
    reviews = list_review_tasks(ctx, contact(customer["id"]), customer["id"])
    assert [(r["instance_id"], r["kind"]) for r in reviews] == [(bound, "Job")]
    assert bindings.list_bindings(ctx, manager.actor).per_customer == {customer["id"]: {"job": "job_approval_two_step"}}


def test_back_to_the_company_default(ctx, office, customer, job):
    _, manager = office
    _deploy(ctx, TWO_STEP, "job_approval_two_step.bpmn")
    bindings.bind_process(ctx, manager.actor, "job", "job_approval_two_step", customer["id"])
    bindings.bind_process(ctx, manager.actor, "job", None, customer["id"])
    started = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    assert _instance(ctx, started).process_id == "job_approval"
    assert bindings.list_bindings(ctx, manager.actor).per_customer == {}


def test_the_company_default_can_be_changed_once_per_case_type(ctx, office):
    admin, _ = office
    _deploy(ctx, TWO_STEP, "job_approval_two_step.bpmn")
    bindings.bind_process(ctx, admin.actor, "job", "job_approval_two_step")
    bindings.bind_process(ctx, admin.actor, "job", "job_approval_two_step")
    assert bindings.list_bindings(ctx, admin.actor).company["job"] == "job_approval_two_step"


def test_a_refused_binding_names_what_is_missing_and_changes_nothing(ctx, office, customer):
    admin, _ = office
    _deploy(ctx, (ROOT / "tests/fixtures/bpmn/endless_loop.bpmn").read_bytes(), "endless_loop.bpmn")
    with pytest.raises(InvalidInput) as refused:
        bindings.bind_process(ctx, admin.actor, "job", "endless_loop", customer["id"])
    assert "no user task in a Customer lane" in str(refused.value)
    assert "it reads n, which the staff side does not send" in str(refused.value)
    unknown = TWO_STEP.replace(b'name="status">approved<', b'name="status">signed_off<')
    _deploy(ctx, unknown, "job_approval_two_step.bpmn")
    problems = bindings.check_binding(ctx, "job", "job_approval_two_step")
    assert problems == [problems[0]] and "mark_approved sets the case status 'signed_off'" in problems[0]
    with pytest.raises(InvalidInput, match="no process 'nosuch' is deployed"):
        bindings.bind_process(ctx, admin.actor, "job", "nosuch")
    with pytest.raises(InvalidInput, match="case type: 'invoice'"):
        bindings.bind_process(ctx, admin.actor, "invoice", "job_approval")
    assert bindings.list_bindings(ctx, admin.actor).per_customer == {}
    assert bindings.bindable_processes(ctx, "job") == ["job_approval", "timesheet_approval"]


def test_scope_a_manager_binds_only_for_its_own_customers(ctx, office, customer):
    _, manager = office
    stranger = create_staff_user(ctx, "sue@example.com", "Sue Stranger", "manager", PASSWORD)
    employee = create_staff_user(ctx, "emma@example.com", "Emma Employee", "employee", PASSWORD)
    with pytest.raises(NotFound):
        bindings.bind_process(ctx, stranger.actor, "job", "job_approval", customer["id"])
    with pytest.raises(NotAllowed):
        bindings.bind_process(ctx, employee.actor, "job", "job_approval", customer["id"])
    with pytest.raises(NotAllowed):
        bindings.bind_process(ctx, manager.actor, "job", "timesheet_approval")  # company-wide: admins only
    bindings.bind_process(ctx, manager.actor, "job", "timesheet_approval", customer["id"])
    assert bindings.list_bindings(ctx, stranger.actor).per_customer == {}


def test_the_start_variables_checked_are_the_ones_the_staff_side_sends_and_documents(ctx, office, customer, job):
    _, manager = office
    started = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    with ctx.uow() as uow:
        seeded = uow.session.scalar(select(WorkflowInstance.data).where(WorkflowInstance.id == started))
    assert bindings.START_VARIABLES["job"] <= set(seeded)
    readme = (ROOT / "bpmn/README.md").read_text()
    assert all(f"`{name}`" in readme for names in bindings.START_VARIABLES.values() for name in names)
    assert bindings.check_binding(ctx, "job", "job_approval") == []
    assert SYSTEM.is_system
