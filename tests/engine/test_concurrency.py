"""Concurrent deciders and sweepers: every task is decided once, every timer fires once."""

import multiprocessing
from collections import Counter

import pytest
from sqlalchemy import select

from engine.config import Settings
from engine.errors import ConcurrentUpdate, TaskAlreadyCompleted
from engine.models import InstanceEvent, OutboxMessage
from engine.services.context import open_context
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers
from tests.engine.helpers import JOB_START, events, instance, only_open_task, open_tasks, outbox, run_together

MANAGER_OUTCOMES = {"approved_to_manager", "rejected_to_manager", "expired_auto_approved_to_manager"}


@pytest.fixture
def job(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    return lambda **overrides: start_instance(ctx, "job_approval", {**JOB_START, **overrides})


def manager_mails(ctx, iid):
    return [m for m in outbox(ctx, iid) if m in MANAGER_OUTCOMES]


def assert_decided_once(ctx, iid, task, results, decisions):
    winners = [i for i, (_, err) in enumerate(results) if err is None]
    assert len(winners) == 1, results
    for i, (_, err) in enumerate(results):
        if i != winners[0]:
            assert isinstance(err, (TaskAlreadyCompleted, ConcurrentUpdate)), repr(err)
    assert all(isinstance(err, TaskAlreadyCompleted) for _, err in results if err is not None), \
        [repr(err) for _, err in results]
    decided = [e for e in events(ctx, iid, "task_completed") if e.element_id == "review_job"]
    assert len(decided) == 1
    assert decided[0].data["decision"] == decisions[winners[0]]
    row = instance(ctx, iid)
    assert row.status == "completed"
    assert row.case_status == {"approve": "approved", "reject": "rejected"}[decisions[winners[0]]]
    assert manager_mails(ctx, iid) == [f"{row.case_status}_to_manager"]
    assert outbox(ctx, iid) == ["approval_request_to_customer", f"{row.case_status}_to_manager"]
    assert open_tasks(ctx, iid) == []


@pytest.mark.parametrize("threads", [2, 8])
def test_racing_deciders_on_one_task_exactly_one_wins(ctx, job, threads):
    iid = job()
    task = only_open_task(ctx, iid, "review_job")
    decisions = ["approve" if i % 2 == 0 else "reject" for i in range(threads)]
    results = run_together(*[
        (lambda d=d: complete_task(ctx, task.id, {"decision": d, "comment": f"thread says {d}"}))
        for d in decisions])
    assert_decided_once(ctx, iid, task, results, decisions)


def test_a_customer_decision_racing_the_period_timer_has_one_outcome(ctx, job, clock):
    for _ in range(10):
        iid = job()
        task = only_open_task(ctx, iid, "review_job")
        now = clock.advance(days=7, seconds=1)
        results = run_together(lambda task=task: complete_task(ctx, task.id, {"decision": "approve"}),
                               lambda now=now: fire_due_timers(ctx, now))
        (_, decide_err), (fired, sweep_err) = results
        assert sweep_err is None, repr(sweep_err)
        row = instance(ctx, iid)
        assert row.status == "completed"
        assert row.case_status in ("approved", "expired_auto_approved")
        mails = manager_mails(ctx, iid)
        assert mails == [f"{row.case_status}_to_manager"]
        if row.case_status == "approved":
            assert decide_err is None and iid not in fired
            assert events(ctx, iid, "timer_fired") == []
        else:
            assert isinstance(decide_err, TaskAlreadyCompleted), repr(decide_err)
            assert [e.element_id for e in events(ctx, iid, "timer_fired")].count("period_expired") == 1
            assert events(ctx, iid, "task_completed") == []


def assert_each_fired_once(ctx, iids):
    with ctx.uow() as uow:
        fired = Counter(uow.session.execute(
            select(InstanceEvent.instance_id).where(InstanceEvent.kind == "timer_fired",
                                                    InstanceEvent.element_id == "period_expired")).scalars())
        mails = Counter(uow.session.execute(
            select(OutboxMessage.instance_id).where(OutboxMessage.template == "expired_auto_approved_to_manager"))
            .scalars())
        reminders = Counter(uow.session.execute(
            select(OutboxMessage.instance_id).where(OutboxMessage.template == "reminder_to_customer")).scalars())
    for iid in iids:
        assert fired[iid] == 1, iid
        assert mails[iid] == 1, iid
        assert reminders[iid] == 1, iid
        row = instance(ctx, iid)
        assert row.status == "completed" and row.case_status == "expired_auto_approved"


def test_four_sweepers_at_once_advance_each_due_instance_exactly_once(ctx, job, clock):
    iids = [job(title=f"Job {n}") for n in range(20)]
    now = clock.advance(days=7, seconds=1)
    results = run_together(*[lambda: fire_due_timers(ctx, now) for _ in range(4)])
    assert [err for _, err in results if err is not None] == []
    advanced = [iid for fired, _ in results for iid in fired]
    assert sorted(advanced) == sorted(iids)  # each instance reported by exactly one sweeper
    assert_each_fired_once(ctx, iids)
    assert fire_due_timers(ctx, now) == []


def _sweep_in_own_process(database_url, now, barrier, queue):
    ctx = open_context(Settings(database_url=database_url))
    try:
        barrier.wait(timeout=60)
        queue.put(("ok", fire_due_timers(ctx, now)))
    except Exception as err:  # noqa: BLE001  (reported to the parent)
        queue.put(("error", repr(err)))
    finally:
        ctx.db.dispose()


def test_two_sweeper_processes_fire_each_timer_exactly_once(ctx, job, clock, database_url):
    iids = [job(title=f"Job {n}") for n in range(20)]
    now = clock.advance(days=7, seconds=1)
    spawn = multiprocessing.get_context("spawn")
    barrier, queue = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=_sweep_in_own_process, args=(database_url, now, barrier, queue))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    reports = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert [r for r in reports if r[0] != "ok"] == []
    advanced = [iid for _, fired in reports for iid in fired]
    assert sorted(advanced) == sorted(iids)
    assert_each_fired_once(ctx, iids)
