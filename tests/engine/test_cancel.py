"""Cancelling an instance withdraws its tasks and timers in one transaction."""

import pytest

from engine.errors import InvalidInput, NotFound, TaskAlreadyCompleted
from engine.services.instances import cancel_instance, complete_task, start_instance
from engine.services.timers import fire_due_timers
from tests.engine.helpers import JOB_START, events, instance, only_open_task, open_tasks, outbox, timers


def test_cancel_withdraws_the_open_task_and_removes_the_timers(ctx, deploy, clock):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", JOB_START)
    task = only_open_task(ctx, iid, "review_job")
    cancel_instance(ctx, iid, reason="sent by mistake")
    row = instance(ctx, iid)
    assert row.status == "cancelled" and row.ended_at == clock.now
    assert open_tasks(ctx, iid) == [] and timers(ctx, iid) == []
    assert events(ctx, iid, "instance_cancelled")[0].data == {"reason": "sent by mistake"}
    with pytest.raises(TaskAlreadyCompleted):
        complete_task(ctx, task.id, {"decision": "approve"})
    assert fire_due_timers(ctx, clock.advance(days=30)) == []
    assert outbox(ctx, iid) == ["approval_request_to_customer"]


def test_cancel_refuses_a_finished_or_unknown_instance(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", JOB_START)
    cancel_instance(ctx, iid)
    with pytest.raises(InvalidInput, match="cancelled, not running"):
        cancel_instance(ctx, iid)
    with pytest.raises(NotFound):
        cancel_instance(ctx, 999)
