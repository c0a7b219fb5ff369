"""A real Celery worker (with beat) against Redis, PostgreSQL and an SMTP server: time passes by itself."""

import os
import signal
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from engine.models import InstanceEvent, OutboxMessage, WorkflowInstance
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.inbox import list_open_tasks
from engine.services.instances import complete_task, start_instance
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START
from tests.tasks.conftest import wait_for

EMAILS = {"customer_email": "dana@millhouse.example", "manager_email": "sam@signoff.example"}


def _deploy(ctx) -> None:
    deploy_file(ctx, SYSTEM, (ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")


def _start(ctx, **overrides) -> int:
    return start_instance(ctx, "job_approval", {**JOB_START, **EMAILS, **overrides})


def _completed(ctx, ids: list[int]) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).where(
            WorkflowInstance.id.in_(ids), WorkflowInstance.status == "completed"))


def _subjects_by_instance(ctx, ids) -> dict[int, list[str]]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id.in_(ids))
                                   .order_by(OutboxMessage.id))
        result: dict[int, list[str]] = {}
        for row in rows:
            result.setdefault(row.instance_id, []).append(row.template)
        return result


def _period_fired_counts(ctx, ids) -> Counter:
    with ctx.uow() as uow:
        return Counter(uow.session.scalars(select(InstanceEvent.instance_id).where(
            InstanceEvent.instance_id.in_(ids), InstanceEvent.kind == "timer_fired",
            InstanceEvent.element_id == "period_expired")))


def test_a_job_reminds_expires_and_notifies_the_manager_by_itself(real_ctx, start_worker, smtp_server):
    handler, _port = smtp_server
    _deploy(real_ctx)
    instance_id = _start(real_ctx, approval_period="PT5S", reminder_interval="PT3S")
    start_worker()
    wait_for(lambda: _completed(real_ctx, [instance_id]) == 1, what="the period to expire")
    wait_for(lambda: len(handler.messages) >= 3, what="three e-mails")
    time.sleep(2)  # a few more sweeps and deliveries: nothing may arrive twice
    subjects = [(m["To"], m["Subject"]) for m in handler.messages]
    assert len(subjects) == 3, subjects
    assert subjects[0][0] == EMAILS["customer_email"] and "approve" in subjects[0][1].lower()
    assert subjects[1][0] == EMAILS["customer_email"] and "reminder" in subjects[1][1].lower()
    assert subjects[2][0] == EMAILS["manager_email"]
    assert len({m["Message-ID"] for m in handler.messages}) == 3
    assert _subjects_by_instance(real_ctx, [instance_id])[instance_id] == [
        "approval_request_to_customer", "reminder_to_customer", "expired_auto_approved_to_manager"]


def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_next_worker(real_ctx, start_worker):
    _deploy(real_ctx)
    ids = [_start(real_ctx, approval_period="PT1S", reminder_interval="P1D") for _ in range(150)]
    time.sleep(1.2)  # every period is now overdue
    first = start_worker("w1")
    wait_for(lambda: _completed(real_ctx, ids) > 0, interval=0.01, what="the first worker to start firing")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    done_by_first = _completed(real_ctx, ids)
    assert 0 < done_by_first < len(ids), "the kill must land in the middle of the batch"
    start_worker("w2")
    wait_for(lambda: _completed(real_ctx, ids) == len(ids), what="the second worker to finish the batch")
    counts = _period_fired_counts(real_ctx, ids)
    assert all(counts[i] == 1 for i in ids), counts
    mails = _subjects_by_instance(real_ctx, ids)
    assert all(mails[i].count("expired_auto_approved_to_manager") == 1 for i in ids)


def test_overdue_timers_fire_once_in_model_order_after_an_outage(real_ctx, start_worker):
    _deploy(real_ctx)
    waiting = [_start(real_ctx, approval_period="PT3S", reminder_interval="PT1S") for _ in range(3)]
    decided = _start(real_ctx, approval_period="PT3S", reminder_interval="PT1S")
    task = list_open_tasks(real_ctx, decided)[0]
    complete_task(real_ctx, task["id"], {"decision": "approve"})
    time.sleep(4)  # no worker: three reminders and the period's end are now overdue
    start_worker()
    wait_for(lambda: _completed(real_ctx, waiting) == len(waiting), what="the overdue timers")
    mails = _subjects_by_instance(real_ctx, [*waiting, decided])
    for instance_id in waiting:
        assert mails[instance_id] == ["approval_request_to_customer", "reminder_to_customer",
                                      "expired_auto_approved_to_manager"]
    assert "reminder_to_customer" not in mails[decided]


def test_two_workers_each_running_beat_fire_every_timer_once(real_ctx, start_worker):
    _deploy(real_ctx)
    ids = [_start(real_ctx, approval_period="PT2S", reminder_interval="P1D") for _ in range(30)]
    # one started the way the README tells small installs to, one the production way: both run beat
    start_worker("small", [sys.executable, "-m", "engine.cli", "worker", "--concurrency", "1"])
    start_worker("big")
    wait_for(lambda: _completed(real_ctx, ids) == len(ids), what="both workers to fire the timers")
    time.sleep(2)
    counts = _period_fired_counts(real_ctx, ids)
    assert all(counts[i] == 1 for i in ids), counts
    mails = _subjects_by_instance(real_ctx, ids)
    assert all(mails[i].count("expired_auto_approved_to_manager") == 1 for i in ids)
