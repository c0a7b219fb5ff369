"""Every path of bpmn/timesheet_approval.bpmn through the durable runtime, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from engine.errors import TaskAlreadyCompleted
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers
from tests.engine.helpers import (
    completed_elements,
    instance,
    only_open_task,
    open_tasks,
    outbox,
    timers,
)

TIMESHEET_START = {
    "customer_id": 7, "registration_ids": [101, 102, 103], "period_start": "2026-11-01",
    "period_end": "2026-11-30", "manager_id": 3, "title": "Hours for November",
    "approval_period": "P7D", "reminder_interval": "P2D", "period_end_action": "auto_approve",
    "minimum_resume_period": "P1D",
}


@pytest.fixture
def timesheet(ctx, deploy):
    deploy("bpmn/timesheet_approval.bpmn")

    def start(**overrides):
        return start_instance(ctx, "timesheet_approval", {**TIMESHEET_START, **overrides})

    return start


def test_start_asks_the_customer_to_review_the_hours_with_a_deadline_and_a_reminder(ctx, timesheet, clock):
    iid = timesheet()
    task = only_open_task(ctx, iid, "review_hours")
    assert task.role == "customer" and task.customer_id == 7
    assert task.due_at == clock.now + timedelta(days=7)
    assert [(t.element_id, t.due_at) for t in timers(ctx, iid)] == [
        ("reminder_due", clock.now + timedelta(days=2)), ("period_expired", clock.now + timedelta(days=7))]
    row = instance(ctx, iid)
    assert row.status == "running" and row.case_status == "awaiting_customer"
    assert row.data["registration_ids"] == [101, 102, 103]
    assert outbox(ctx, iid) == ["approval_request_to_customer"]


def test_customer_approves_the_hours_and_the_manager_is_told(ctx, timesheet):
    iid = timesheet()
    complete_task(ctx, only_open_task(ctx, iid, "review_hours").id, {"decision": "approve", "comment": "ok"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"
    assert completed_elements(ctx, iid)[-1] == "hours_approved"
    assert outbox(ctx, iid) == ["approval_request_to_customer", "approved_to_manager"]
    assert timers(ctx, iid) == [] and open_tasks(ctx, iid) == []


def test_customer_rejects_the_hours_and_the_manager_is_told(ctx, timesheet):
    iid = timesheet()
    complete_task(ctx, only_open_task(ctx, iid, "review_hours").id, {"decision": "reject", "comment": "too many"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "rejected"
    assert completed_elements(ctx, iid)[-1] == "hours_rejected"
    assert outbox(ctx, iid)[-1] == "rejected_to_manager"
    assert timers(ctx, iid) == []


def test_a_question_goes_to_the_manager_and_after_the_answer_the_customer_approves(ctx, timesheet, clock):
    iid = timesheet()
    clock.advance(days=3)
    complete_task(ctx, only_open_task(ctx, iid, "review_hours").id, {"decision": "query", "comment": "why 9h?"})
    assert instance(ctx, iid).case_status == "queried"
    assert outbox(ctx, iid)[-1] == "queried_to_manager"
    assert timers(ctx, iid) == []  # the customer's clock is stopped
    answer = only_open_task(ctx, iid, "answer_query")
    assert answer.role == "manager"
    clock.advance(days=10)
    complete_task(ctx, answer.id, {"answer": "travel included"})
    assert outbox(ctx, iid)[-1] == "query_answered_to_customer"
    assert instance(ctx, iid).case_status == "awaiting_customer"
    review = only_open_task(ctx, iid, "review_hours")
    assert review.due_at == clock.now + timedelta(days=4)  # 7 days minus the 3 used before the question
    assert instance(ctx, iid).data["review_round"] == 2
    complete_task(ctx, review.id, {"decision": "approve"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"
    assert row.data["answer"] == "travel included"


def test_reminder_fires_and_the_review_stays_open(ctx, timesheet, clock):
    iid = timesheet()
    review = only_open_task(ctx, iid, "review_hours")
    assert fire_due_timers(ctx, clock.advance(days=2, seconds=1)) == [iid]
    assert instance(ctx, iid).case_status == "reminded"
    assert outbox(ctx, iid)[-1] == "reminder_to_customer"
    assert only_open_task(ctx, iid, "review_hours").id == review.id
    assert fire_due_timers(ctx, clock.now) == []  # nothing fires twice
    complete_task(ctx, review.id, {"decision": "approve"})
    assert instance(ctx, iid).case_status == "approved"


def test_period_end_approves_the_hours_automatically(ctx, timesheet, clock):
    iid = timesheet()
    task = only_open_task(ctx, iid, "review_hours")
    fire_due_timers(ctx, clock.advance(days=7, seconds=1))
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "expired_auto_approved"
    assert row.data["auto_decided"] is True and row.data["decision"] == "approve"
    assert completed_elements(ctx, iid)[-1] == "hours_auto_approved"
    assert open_tasks(ctx, iid) == [] and timers(ctx, iid) == []
    assert outbox(ctx, iid)[-1] == "expired_auto_approved_to_manager"
    with pytest.raises(TaskAlreadyCompleted):
        complete_task(ctx, task.id, {"decision": "approve"})


def test_period_end_escalates_to_the_manager_who_decides(ctx, timesheet, clock):
    iid = timesheet(period_end_action="escalate")
    fire_due_timers(ctx, clock.advance(days=8))
    escalation = only_open_task(ctx, iid, "decide_escalation")
    assert escalation.role == "manager"
    assert instance(ctx, iid).status == "running"
    complete_task(ctx, escalation.id, {"decision": "approve", "comment": "checked them myself"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"
    assert completed_elements(ctx, iid)[-1] == "hours_approved"
    assert row.data.get("auto_decided") in (None, False)


def test_escalated_hours_can_be_rejected_by_the_manager(ctx, timesheet, clock):
    iid = timesheet(period_end_action="escalate")
    fire_due_timers(ctx, clock.advance(days=8))
    complete_task(ctx, only_open_task(ctx, iid, "decide_escalation").id, {"decision": "reject"})
    assert instance(ctx, iid).case_status == "rejected"
    assert outbox(ctx, iid)[-1] == "rejected_to_manager"
