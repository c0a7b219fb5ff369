"""The Processes selects on /settings and on a customer's policy page."""

from pathlib import Path

from engine.models import Customer
from engine.services import bindings
from engine.services.customers import create_customer
from engine.services.deployments import deploy_process
from engine.services.staff_auth import create_staff_user
from tests.webapp.conftest import PASSWORD, log_in

ROOT = Path(__file__).resolve().parents[2]
TWO_STEP = (ROOT / "bpmn/job_approval.bpmn").read_bytes().replace(b'id="job_approval" name="Job approval"',
                                                                  b'id="job_approval_two_step" name="Two-step"')


def test_settings_and_policy_pages_bind_processes(ctx, deploy, client, manager):
    deploy("bpmn/job_approval.bpmn")
    deploy("bpmn/timesheet_approval.bpmn")
    deploy_process(ctx, TWO_STEP, "job_approval_two_step.bpmn")
    deploy("tests/fixtures/bpmn/endless_loop.bpmn")
    customer = create_customer(ctx, staff=manager, name="Mill House")["id"]
    with ctx.uow() as uow:  # Mia manages the customer
        uow.session.get(Customer, customer).account_manager_id = manager.id
        uow.commit()
    assert log_in(client, manager.email).status_code == 302
    page = client.get(f"/customers/{customer}/policy").get_data(as_text=True)
    assert "Company default (job_approval)" in page and "job_approval_two_step" in page
    assert "endless_loop" not in page
    saved = client.post(f"/customers/{customer}/bindings", data={"job": "job_approval_two_step", "timesheet": ""},
                        follow_redirects=True)
    assert "Processes saved" in saved.get_data(as_text=True)
    assert bindings.list_bindings(ctx, manager.actor).per_customer == {customer: {"job": "job_approval_two_step"}}
    refused = client.post(f"/customers/{customer}/bindings", data={"job": "endless_loop", "timesheet": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert "Processes not saved: job: endless_loop cannot run job approvals" in refused
    assert bindings.list_bindings(ctx, manager.actor).per_customer == {customer: {"job": "job_approval_two_step"}}
    assert client.post("/settings/bindings", data={"job": "job_approval_two_step"}).status_code == 403

    admin = create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    client.post("/logout")
    assert log_in(client, admin.email).status_code == 302
    assert "Job approvals run" in client.get("/settings").get_data(as_text=True)
    client.post("/settings/bindings", data={"job": "job_approval_two_step", "timesheet": "timesheet_approval"})
    assert bindings.list_bindings(ctx, admin.actor).company == {"job": "job_approval_two_step",
                                                                "timesheet": "timesheet_approval"}
