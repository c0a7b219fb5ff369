"""The installation at a glance, for `signoff status`: database, processes, workers' sweeps, backlog."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from engine.isotime import iso
from engine.models import OutboxMessage, OutboxStatus, ProcessVersion, WorkerHeartbeat
from engine.services.context import Context
from engine.services.timers import due_instances_query


def get_status(ctx: Context, now: datetime | None = None) -> dict:
    """Database (password hidden), the newest version of each deployed process, each worker's last sweep
    and how it ended, instances with due timers waiting as of `now`, and the outbox backlog."""
    now = now or ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        processes = session.execute(select(ProcessVersion.process_id, func.max(ProcessVersion.version))
                                    .group_by(ProcessVersion.process_id).order_by(ProcessVersion.process_id)).all()
        workers = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.name)).all()
        due = session.scalar(select(func.count()).select_from(due_instances_query(now).subquery()))
        backlog = [OutboxStatus.PENDING, OutboxStatus.FAILED]
        outbox = dict(session.execute(select(OutboxMessage.status, func.count())
                                      .where(OutboxMessage.status.in_(backlog)).group_by(OutboxMessage.status)).all())
    return {
        "database": make_url(ctx.settings.database_url).render_as_string(hide_password=True),
        "processes": [{"process_id": pid, "version": version} for pid, version in processes],
        "workers": [{"name": w.name, "last_sweep_at": iso(w.last_sweep_at), "last_ok_at": iso(w.last_ok_at),
                     "result": w.last_result, "error": w.last_error} for w in workers],
        "due_timers": due,
        "outbox_pending": outbox.get(OutboxStatus.PENDING, 0),
        "outbox_failed": outbox.get(OutboxStatus.FAILED, 0),
    }
