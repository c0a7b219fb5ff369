"""Firing due timers: a sweeper that is safe to run in many workers at once.

One bad instance never stops the others: whatever its advance raises goes to that instance (`error`),
and the sweep goes on with the next one. Only database errors end a sweep (the next one retries).
"""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from engine.models import InstanceStatus, Timer, WorkflowInstance
from engine.services.context import Context
from engine.services.instances import advance, describe, lock_instance, mark_error
from engine.workflow import runtime

log = logging.getLogger(__name__)

MAX_TIMERS_PER_INSTANCE = 100  # timers of one instance fired in one transaction; the rest in the next
BATCH = 500


def due_instances_query(now: datetime):
    """Running instances with a timer due as of `now`, the most overdue first."""
    return (select(Timer.instance_id).join(WorkflowInstance, WorkflowInstance.id == Timer.instance_id)
            .where(Timer.due_at <= now, WorkflowInstance.status == InstanceStatus.RUNNING)
            .group_by(Timer.instance_id).order_by(func.min(Timer.due_at), Timer.instance_id))


def count_due_instances(ctx: Context, now: datetime | None = None) -> int:
    """How many running instances have a timer due as of `now` (default: the clock)."""
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(due_instances_query(now or ctx.clock()).subquery()))


def fire_due_timers(ctx: Context, now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Fire the timers due as of `now` (default: the clock) of up to `limit` instances, the most overdue
    first; returns the ids of instances advanced (one in error counts: it was dealt with).

    Each instance is advanced in its own transaction under its row lock; PostgreSQL workers skip rows
    another worker holds (SKIP LOCKED), and a timer already fired is simply no longer due.
    """
    now = now or ctx.clock()
    with ctx.uow() as uow:
        due = uow.session.execute(due_instances_query(now).limit(limit)).scalars().all()
    return [instance_id for instance_id in due if _fire_isolated(ctx, instance_id, now)]


def fire_all_due_timers(ctx: Context, now: datetime | None = None, batch: int = BATCH,
                        progress: Callable[[int], None] | None = None) -> list[int]:
    """Fire batches until nothing is due as of `now` (or a batch advances nothing: the rest is locked
    by another worker); `progress(n)` is told after each batch how many instances it advanced."""
    now = now or ctx.clock()
    advanced: list[int] = []
    while fired := fire_due_timers(ctx, now, batch):
        advanced += fired
        if progress is not None:
            progress(len(fired))
    return advanced


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


def _fire_instance(ctx: Context, instance_id: int, now: datetime) -> bool:
    """Fire one instance's due timers in due order, each at its own due time (model order)."""
    with ctx.uow() as uow:
        session = uow.session
        row = lock_instance(session, instance_id, skip_locked=ctx.is_postgres)
        if row is None or row.status != InstanceStatus.RUNNING:
            return False
        loaded = runtime.load(session, row, ctx.clock, ctx.settings)
        loaded.engine.horizon = now
        fired: set[str] = set()

        def fire_in_order() -> None:
            for _ in range(MAX_TIMERS_PER_INSTANCE):
                pending = [(t, due) for t, due in runtime.waiting_timers(loaded.workflow)
                           if due <= now and str(t.id) not in fired]
                if not pending:
                    return
                task, due = pending[0]
                fired.add(str(task.id))
                loaded.engine.clock = lambda due=due: due
                loaded.add_event("timer_fired", due, task.task_spec.bpmn_id)
                loaded.workflow.refresh_timers()
                runtime.run_engine_steps(loaded)
                runtime.record_progress(loaded, None)

        if not [t for t, due in runtime.waiting_timers(loaded.workflow) if due <= now]:
            return False
        advance(ctx, session, loaded, fire_in_order, None)
        uow.commit()
        return True
