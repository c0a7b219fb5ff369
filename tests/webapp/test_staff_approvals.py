"""The Customer Approval screen, the settings page and the customer policy page through the Flask test client."""

from datetime import date, time

import pytest

from engine.models import Registration
from engine.services import approval_board, customers, jobs
from engine.services.context import Actor
from engine.services.inbox import list_open_tasks
from engine.services.instances import complete_task
from engine.services.staff_auth import create_staff_user
from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app


@pytest.fixture
def processes(deploy):
    deploy("bpmn/job_approval.bpmn")
    deploy("bpmn/timesheet_approval.bpmn")


@pytest.fixture
def job(ctx, manager, processes):
    customer = customers.create_customer(ctx, staff=manager, name="Mill House", contact_name="Dana",
                                         contact_email="dana@millhouse.example")
    customers.set_portal_access(ctx, customer["id"], True, staff=manager)
    created = jobs.create_job(ctx, customer["id"], staff=manager, name="Window cleaning", manager_id=manager.id,
                              requires_customer_approval=True)
    with ctx.uow() as uow:
        uow.session.add(Registration(job_id=created["id"], employee_id=manager.id, kind="hours",
                                     work_date=date(2026, 11, 3), start_time=time(9), end_time=time(11), minutes=120,
                                     created_at=ctx.clock(), updated_at=ctx.clock()))
        uow.commit()
    return created


def decide(ctx, instance_id: int, customer_id: int, decision: str, comment: str) -> None:
    (task,) = list_open_tasks(ctx, instance_id)
    complete_task(ctx, task["id"], {"decision": decision, "comment": comment},
                  Actor("dana@millhouse.example", frozenset({"customer"}), frozenset({customer_id})))


def test_a_manager_sends_a_job_and_watches_its_status(ctx, as_manager, manager, job):
    page = as_manager.get("/approvals").get_data(as_text=True)
    assert "Window cleaning" in page and "1 registration" in page
    sent = as_manager.post("/approvals/jobs", data={"job_id": str(job["id"])}, follow_redirects=True)
    page = sent.get_data(as_text=True)
    assert "Sent for approval: Window cleaning, Mill House." in page
    assert "status-awaiting_customer" in page and "7 d 0 h" in page
    (row,) = approval_board.list_approvals(ctx, staff=manager)
    decide(ctx, row["id"], job["customer_id"], "query", "Were the inside windows done?")
    page = as_manager.get("/approvals").get_data(as_text=True)
    assert "status-queried" in page and "Were the inside windows done?" in page and "paused (query)" in page
    assert "Answer the customer" in page  # the manager's answer task is linked from the row


def test_hours_of_a_period_are_sent_and_a_running_approval_cancelled(ctx, as_manager, manager, job):
    page = as_manager.get("/approvals?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert "Mill House" in page and "2:00 h" in page
    as_manager.post("/approvals/hours", data={"customer_id": str(job["customer_id"]), "period_start": "2026-11-01",
                                              "period_end": "2026-11-30"})
    (row,) = approval_board.list_approvals(ctx, staff=manager)
    assert row["kind"] == "Hours" and row["status"] == "awaiting_customer"
    as_manager.post(f"/approvals/{row['id']}/cancel")
    assert approval_board.list_approvals(ctx, staff=manager)[0]["status"] == "cancelled"


def test_refusals_come_back_as_messages_and_change_nothing(ctx, as_manager, manager, job):
    none_in_period = as_manager.post("/approvals/hours", data={
        "customer_id": str(job["customer_id"]), "period_start": "2026-01-01", "period_end": "2026-01-31"},
        follow_redirects=True)
    assert "Hours not sent: period: Mill House has no hours" in none_in_period.get_data(as_text=True)
    nothing = as_manager.post("/approvals/jobs", data={}, follow_redirects=True)
    assert "Pick at least one job" in nothing.get_data(as_text=True)
    assert approval_board.list_approvals(ctx, staff=manager) == []
    assert as_manager.post("/approvals/999/cancel").status_code == 404


def test_another_manager_sees_nothing_and_an_employee_may_not_open_the_screen(ctx, client, manager, job, employee):
    create_staff_user(ctx, "otto@example.com", "Otto Other", "manager", PASSWORD)
    log_in(client, "otto@example.com")
    assert "Window cleaning" not in client.get("/approvals").get_data(as_text=True)
    assert client.post("/approvals/jobs", data={"job_id": str(job["id"])}, follow_redirects=True).status_code == 200
    assert approval_board.list_approvals(ctx, staff=manager) == []
    client.post("/logout")
    log_in(client, employee.email)
    assert client.get("/approvals").status_code == 403


def test_settings_are_for_admins_and_bad_values_are_refused_per_field(ctx, client, as_manager):
    assert as_manager.get("/settings").status_code == 403
    as_manager.post("/logout")
    create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    log_in(client, "ada@example.com")
    bad = client.post("/settings", data={"approval_period": "a week", "reminder_interval": "P2D",
                                         "minimum_resume_period": "P1D", "period_end_action": "escalate"})
    assert bad.status_code == 400 and "approval_period-error" in bad.get_data(as_text=True)
    assert 'id="approval_period" inputmode="numeric" name="approval_period" size="6" type="text" value="7"' in \
        client.get("/settings").get_data(as_text=True)
    good = client.post("/settings", data={"customer_approval_enabled": "y", "approval_period": "P5D",
                                          "reminder_interval": "P1D", "minimum_resume_period": "P1D",
                                          "period_end_action": "escalate", "portal_shows_hours": "y"},
                       follow_redirects=True)
    assert "Settings saved" in good.get_data(as_text=True) and 'name="approval_period" size="6" type="text" value="5"' \
        in good.get_data(as_text=True)


def test_a_customer_policy_overrides_the_defaults(ctx, as_manager, job):
    url = f"/customers/{job['customer_id']}/policy"
    bad = as_manager.post(url, data={"approval_period": "P1M", "reminder_interval": "", "period_end_action": ""})
    assert bad.status_code == 400 and "approval_period-error" in bad.get_data(as_text=True)
    ok = as_manager.post(url, data={"approval_period": "P3D", "reminder_interval": "", "period_end_action": "escalate"},
                         follow_redirects=True)
    assert "Applies now: a period of 3 days, a reminder every 2 days" in ok.get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused(ctx, manager, job):
    client = create_app(ctx=ctx, config={"TESTING": True}).test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token})
    refused = client.post("/approvals/jobs", data={"job_id": str(job["id"])})
    assert refused.status_code == 400 and approval_board.list_approvals(ctx, staff=manager) == []


def test_resend_posted_twice_starts_one_approval_and_says_why_the_second_did_nothing(ctx, as_manager, manager, job):
    as_manager.post("/approvals/jobs", data={"job_id": str(job["id"])})
    (row,) = approval_board.list_approvals(ctx, staff=manager)
    decide(ctx, row["id"], job["customer_id"], "reject", "Redo the windows")
    first = as_manager.post(f"/approvals/{row['id']}/resend", follow_redirects=True)
    second = as_manager.post(f"/approvals/{row['id']}/resend", follow_redirects=True)
    live = [a for a in approval_board.list_approvals(ctx, staff=manager) if a["instance_status"] == "running"]
    assert len(live) == 1 and "Sent again: " in first.get_data(as_text=True)
    assert second.status_code == 200
    assert f"already under way again as approval {live[0]['id']}" in second.get_data(as_text=True)


def test_the_board_keeps_the_question_and_the_answer_after_the_decision(ctx, as_manager, manager, job):
    as_manager.post("/approvals/jobs", data={"job_id": str(job["id"])})
    (row,) = approval_board.list_approvals(ctx, staff=manager)
    decide(ctx, row["id"], job["customer_id"], "query", "Were the inside windows done?")
    (task,) = list_open_tasks(ctx, row["id"])
    complete_task(ctx, task["id"], {"answer": "Yes, all of them"}, Actor(manager.name, is_system=True))
    decide(ctx, row["id"], job["customer_id"], "approve", "")
    page = as_manager.get("/approvals").get_data(as_text=True)
    assert "Question: Were the inside windows done?" in page and "Answer: Yes, all of them" in page
