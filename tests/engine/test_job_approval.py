"""Every path of bpmn/job_approval.bpmn through the durable runtime, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from engine.errors import InvalidInput, TaskAlreadyCompleted
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers
from tests.engine.helpers import (
    JOB_START,
    completed_elements,
    instance,
    only_open_task,
    open_tasks,
    outbox,
    timers,
)


@pytest.fixture
def job(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")

    def start(**overrides):
        return start_instance(ctx, "job_approval", {**JOB_START, **overrides})

    return start


def test_start_waits_for_the_customer_with_a_deadline_and_a_reminder(ctx, job, clock):
    iid = job()
    task = only_open_task(ctx, iid, "review_job")
    assert task.role == "customer" and task.customer_id == 7
    assert task.due_at == clock.now + timedelta(days=7)
    assert [(t.element_id, t.due_at) for t in timers(ctx, iid)] == [
        ("reminder_due", clock.now + timedelta(days=2)), ("period_expired", clock.now + timedelta(days=7))]
    assert instance(ctx, iid).case_status == "awaiting_customer"
    assert outbox(ctx, iid) == ["approval_request_to_customer"]


def test_customer_approves_and_manager_is_told(ctx, job):
    iid = job()
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve", "comment": "fine"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"
    assert completed_elements(ctx, iid)[-1] == "job_approved"
    assert outbox(ctx, iid)[-1] == "approved_to_manager"
    assert timers(ctx, iid) == []


def test_customer_rejects_and_manager_is_told(ctx, job):
    iid = job()
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "reject", "comment": "no"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "rejected"
    assert outbox(ctx, iid)[-1] == "rejected_to_manager"


def test_query_stops_the_clock_and_the_customer_gets_the_remaining_period(ctx, job, clock):
    iid = job()
    clock.advance(days=5)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": "which rooms?"})
    assert instance(ctx, iid).case_status == "queried"
    assert timers(ctx, iid) == []
    clock.advance(days=10)  # the manager takes long: the customer's clock is stopped meanwhile
    complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "all of them"})
    review = only_open_task(ctx, iid, "review_job")
    assert review.due_at == clock.now + timedelta(days=2)  # 7 days minus the 5 already used
    assert outbox(ctx, iid)[-1] == "query_answered_to_customer"


def test_after_a_late_query_the_customer_still_gets_the_minimum_period(ctx, job, clock):
    iid = job()
    clock.advance(days=6, hours=23)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": "?"})
    complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "ok"})
    assert only_open_task(ctx, iid, "review_job").due_at == clock.now + timedelta(days=1)


def test_reminder_fires_without_ending_the_review(ctx, job, clock):
    iid = job()
    assert fire_due_timers(ctx, clock.advance(days=2, seconds=1)) == [iid]
    assert instance(ctx, iid).case_status == "reminded"
    assert outbox(ctx, iid)[-1] == "reminder_to_customer"
    only_open_task(ctx, iid, "review_job")
    assert fire_due_timers(ctx, clock.now) == []  # firing is idempotent


def test_period_end_auto_approves(ctx, job, clock):
    iid = job()
    fire_due_timers(ctx, clock.advance(days=7, seconds=1))
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "expired_auto_approved"
    assert row.data["auto_decided"] is True
    assert open_tasks(ctx, iid) == []
    # one reminder, in model order before the period's end, although both were overdue
    assert outbox(ctx, iid) == ["approval_request_to_customer", "reminder_to_customer",
                                "expired_auto_approved_to_manager"]


def test_period_end_escalates_to_the_manager(ctx, job, clock):
    iid = job(period_end_action="escalate")
    fire_due_timers(ctx, clock.advance(days=8))
    escalation = only_open_task(ctx, iid, "decide_escalation")
    assert escalation.role == "manager"
    complete_task(ctx, escalation.id, {"decision": "reject", "comment": "customer unreachable"})
    assert instance(ctx, iid).case_status == "rejected"


def test_an_enum_value_outside_the_list_is_refused_and_nothing_changes(ctx, job):
    iid = job()
    task = only_open_task(ctx, iid, "review_job")
    with pytest.raises(InvalidInput, match="decision"):
        complete_task(ctx, task.id, {"decision": "maybe"})
    with pytest.raises(InvalidInput, match="hours: not a field"):
        complete_task(ctx, task.id, {"decision": "approve", "hours": 3})
    assert only_open_task(ctx, iid, "review_job").id == task.id
    assert instance(ctx, iid).status == "running"


def test_a_task_withdrawn_by_the_timer_cannot_be_completed(ctx, job, clock):
    iid = job()
    task = only_open_task(ctx, iid, "review_job")
    fire_due_timers(ctx, clock.advance(days=8))
    with pytest.raises(TaskAlreadyCompleted):
        complete_task(ctx, task.id, {"decision": "approve"})


def test_fifty_query_loops_keep_the_saved_state_small(ctx, job):
    iid = job()
    first = len(instance(ctx, iid).state)
    for _ in range(50):
        complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": "?"})
        complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "!"})
    assert len(instance(ctx, iid).state) < first * 1.5
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve"})
    assert instance(ctx, iid).status == "completed"
