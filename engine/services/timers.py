"""Firing due timers: a sweeper that is safe to run in many workers at once.

Order of operations: (1) claim a small batch of due timer rows in a short transaction of its own, leasing
them (`timer.claimed_until`) so that other sweepers take other rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
SQLite serializes writers); (2) fire each claimed instance in its own transaction under its row lock;
(3) claim the next batch. A fired timer's row is replaced, so its lease goes with it; a sweeper that dies
mid-batch leaves its unfired claims to the next sweeper once the lease runs out. The row lock, not the
lease, is what keeps an instance from being advanced twice: a lease that ran out only costs a re-check.

A reminder (a repeating timer) found overdue by more than CATCH_UP_GRACE was missed while no worker ran: it is
sent once, late, unless its case chose to skip it (engine.services.upcoming_timers); deadlines always fire.

One bad instance never stops the others: whatever its advance raises goes to that instance (`error`),
and the sweep goes on with the next one. Only database errors end a sweep (the next one retries).
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.models import InstanceStatus, Timer, WorkflowInstance
from engine.services.context import Context
from engine.services.instances import advance, describe, lock_for_advance, lock_instance, mark_error
from engine.services.upcoming_timers import CATCH_UP_GRACE, skip_if_chosen
from engine.workflow import runtime

log = logging.getLogger(__name__)

MAX_TIMERS_PER_INSTANCE = 100  # timers of one instance fired in one transaction; the rest in the next
BATCH = 500  # instances one fire_due_timers call fires at most
CLAIM = 20  # timer rows claimed at once: few, so a killed sweeper strands few and workers end together
LEASE = timedelta(seconds=30)  # far longer than a claim takes to fire; how long a dead sweeper's claims wait


def due_instances_query(now: datetime):
    """Running instances with a timer due as of `now`, the most overdue first."""
    return (select(Timer.instance_id).join(WorkflowInstance, WorkflowInstance.id == Timer.instance_id)
            .where(Timer.due_at <= now, WorkflowInstance.status == InstanceStatus.RUNNING)
            .group_by(Timer.instance_id).order_by(func.min(Timer.due_at), Timer.instance_id))


def count_due_instances(ctx: Context, now: datetime | None = None) -> int:
    """How many running instances have a timer due as of `now` (default: the clock)."""
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(due_instances_query(now or ctx.clock()).subquery()))


def fire_due_timers(ctx: Context, now: datetime | None = None, limit: int = BATCH,
                    on_more: Callable[[], None] | None = None) -> list[int]:
    """Fire the timers due as of `now` (default: the clock) of up to about `limit` instances, the most overdue
    first, claiming them a few at a time; returns the ids of instances advanced (one in error counts: it was
    dealt with). `on_more()` is called once, after the first claim, if more is due than it took (a Celery
    worker uses it to enqueue a sweep for another worker).

    Each instance is advanced in its own transaction under its row lock; due timers another sweeper has
    claimed are left to it, and a timer already fired is simply no longer due.
    """
    now = now or ctx.clock()
    advanced: list[int] = []
    claimed = 0
    while claimed < limit:
        size = min(CLAIM, limit - claimed)
        ids, full = _claim(ctx, now, size)
        if claimed == 0 and full and on_more is not None:
            on_more()
        claimed += len(ids)
        advanced += [instance_id for instance_id in ids if _fire_isolated(ctx, instance_id, now)]
        if not full:
            break
    return advanced


def fire_all_due_timers(ctx: Context, now: datetime | None = None, batch: int = BATCH,
                        progress: Callable[[int], None] | None = None) -> list[int]:
    """Fire batches until nothing is due as of `now` (or a batch advances nothing: the rest is claimed
    by another worker); `progress(n)` is told after each batch how many instances it advanced."""
    now = now or ctx.clock()
    advanced: list[int] = []
    while fired := fire_due_timers(ctx, now, batch):
        advanced += fired
        if progress is not None:
            progress(len(fired))
    return advanced


def _claim(ctx: Context, now: datetime, size: int) -> tuple[list[int], bool]:
    """Lease up to `size` due timer rows that no live lease holds, in one statement and transaction of its
    own; returns their instances, most overdue first, and whether `size` rows were taken (more may be due)."""
    clock = ctx.clock()
    picked = (select(Timer.id).join(WorkflowInstance, WorkflowInstance.id == Timer.instance_id)
              .where(Timer.due_at <= now, WorkflowInstance.status == InstanceStatus.RUNNING,
                     or_(Timer.claimed_until.is_(None), Timer.claimed_until <= clock))
              .order_by(Timer.due_at, Timer.id).limit(size)
              .with_for_update(of=Timer, skip_locked=True)
              .cte("picked").prefix_with("MATERIALIZED"))  # run once: SKIP LOCKED gives other rows each run
    claim = (update(Timer).where(Timer.id.in_(select(picked.c.id))).values(claimed_until=clock + LEASE)
             .returning(Timer.instance_id, Timer.due_at))
    with ctx.uow() as uow:
        rows = uow.session.execute(claim, execution_options={"synchronize_session": False}).all()
        uow.commit()
    ids = dict.fromkeys(instance_id for instance_id, _ in sorted(rows, key=lambda r: (r[1], r[0])))
    return list(ids), len(rows) == size


def _release_claims(session: Session, instance_id: int) -> None:
    """Lift the leases of an instance's timers (its remaining due timers go to the next claim at once)."""
    session.execute(update(Timer).where(Timer.instance_id == instance_id).values(claimed_until=None)
                    .execution_options(synchronize_session=False))


def _fire_isolated(ctx: Context, instance_id: int, now: datetime) -> bool:
    try:
        return _fire_instance(ctx, instance_id, now)
    except (SQLAlchemyError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 - e.g. a state that cannot be loaded: the instance's own fault
        log.exception("instance %s failed outside its advance; marked error", instance_id)
        with ctx.uow() as uow:
            row = lock_instance(uow.session, instance_id)
            if row is None or row.status != InstanceStatus.RUNNING:
                return False
            mark_error(ctx, uow.session, row, None, describe(err))
            uow.commit()
        return True


def fire_timer_task(loaded: runtime.LoadedInstance, task, due: datetime) -> None:
    """Fire one waiting timer at its due time and run the steps it releases (the clock reads `due` meanwhile)."""
    loaded.engine.clock = lambda due=due: due
    loaded.add_event("timer_fired", due, task.task_spec.bpmn_id)
    loaded.workflow.refresh_timers()
    runtime.run_engine_steps(loaded)
    runtime.record_progress(loaded, None)


def _fire_instance(ctx: Context, instance_id: int, now: datetime) -> bool:
    """Fire one instance's due timers in due order, each at its own due time (model order)."""
    with ctx.uow() as uow:
        session = uow.session
        row, key = lock_for_advance(session, instance_id, skip_locked=ctx.is_postgres)
        if row is None or row.status != InstanceStatus.RUNNING:
            return False
        loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
        loaded.engine.horizon = now
        fired: set[str] = set()

        def due_now() -> list:
            return [(t, due) for t, due in runtime.waiting_timers(loaded.workflow)
                    if due <= now and str(t.id) not in fired]

        pending = due_now()
        if not pending:
            return False

        def fire_in_order() -> None:
            nonlocal pending
            for _ in range(MAX_TIMERS_PER_INSTANCE):
                if not pending:
                    return
                task, due = pending[0]
                fired.add(str(task.id))
                if due < now - CATCH_UP_GRACE and skip_if_chosen(session, loaded, task, now):
                    pending = due_now()
                    continue
                fire_timer_task(loaded, task, due)
                pending = due_now()

        advance(ctx, session, loaded, fire_in_order, None)
        if pending:  # the per-transaction cap was reached: the rest is for the next claim, whoever makes it
            _release_claims(session, instance_id)
        uow.commit()
        return True
