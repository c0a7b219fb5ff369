"""Firing due timers: a sweeper that is safe to run in many workers at once."""

from datetime import datetime

from sqlalchemy import func, select

from engine.models import InstanceStatus, Timer
from engine.services.context import Context
from engine.services.instances import advance, lock_instance
from engine.workflow import runtime

MAX_STEPS_PER_INSTANCE = 100


def fire_due_timers(ctx: Context, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Fire every timer due as of `now` (default: the clock); returns the ids of instances advanced.

    Each instance is advanced in its own transaction under its row lock; PostgreSQL workers skip rows
    another worker holds (SKIP LOCKED), and a timer already fired is simply no longer due.
    """
    now = now or ctx.clock()
    with ctx.uow() as uow:
        due = uow.session.execute(
            select(Timer.instance_id).where(Timer.due_at <= now).group_by(Timer.instance_id)
            .order_by(func.min(Timer.due_at)).limit(limit)).scalars().all()
    return [instance_id for instance_id in due if _fire_instance(ctx, instance_id, now)]


def _fire_instance(ctx: Context, instance_id: int, now: datetime) -> bool:
    """Fire one instance's due timers in due order, each at its own due time (model order)."""
    with ctx.uow() as uow:
        session = uow.session
        row = lock_instance(session, instance_id, skip_locked=ctx.is_postgres)
        if row is None or row.status != InstanceStatus.RUNNING:
            return False
        loaded = runtime.load(session, row, ctx.clock, ctx.settings.script_time_limit)
        loaded.engine.horizon = now
        fired: set[str] = set()

        def fire_in_order() -> None:
            for _ in range(MAX_STEPS_PER_INSTANCE):
                pending = [(t, due) for t, due in runtime.waiting_timers(loaded.workflow)
                           if due <= now and str(t.id) not in fired]
                if not pending:
                    return
                task, due = pending[0]
                fired.add(str(task.id))
                loaded.engine.clock = lambda due=due: due
                loaded.add_event("timer_fired", due, task.task_spec.bpmn_id)
                loaded.workflow.refresh_timers()
                loaded.workflow.do_engine_steps()
                runtime.record_progress(loaded, None)

        if not [t for t, due in runtime.waiting_timers(loaded.workflow) if due <= now]:
            return False
        advance(ctx, session, loaded, fire_in_order, None)
        uow.commit()
        return True
