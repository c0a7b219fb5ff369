"""One round of background work for a worker (the embedded thread or a Celery task), which survives it.

Each part (fire timers, deliver mail) runs on its own: a part that raises is logged and recorded, and the
next part and the next round still run. The round ends by writing the worker's heartbeat row, which
`signoff status` shows. Only KeyboardInterrupt and SystemExit pass, for the worker to decide (shutdown).
"""

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite

from engine.models import WorkerHeartbeat
from engine.services.context import Context

log = logging.getLogger(__name__)

ERROR_CHARS = 1000


@dataclass(frozen=True)
class SweepResult:
    worker: str
    results: dict[str, str]
    errors: dict[str, str]


def worker_name(kind: str) -> str:
    """A heartbeat name per kind of worker and host: `embedded@web1`, `celery-timers@worker2`."""
    return f"{kind}@{socket.gethostname()}"


def run_sweep(ctx: Context, worker: str, parts: dict[str, Callable[[], str]]) -> SweepResult:
    """Run each part (a callable returning a one-line summary), then record the heartbeat; never raises
    for a part's failure, whatever it is (BaseException included), except KeyboardInterrupt/SystemExit."""
    results: dict[str, str] = {}
    errors: dict[str, str] = {}
    try:
        for name, part in parts.items():
            try:
                results[name] = part()
            except (KeyboardInterrupt, SystemExit):
                errors[name] = "interrupted"
                raise
            except BaseException as err:  # noqa: BLE001 - the worker must survive anything a round raises
                log.exception("%s: %s sweep failed", worker, name)
                errors[name] = f"{type(err).__name__}: {err}"[:ERROR_CHARS]
    finally:
        _record_heartbeat(ctx, worker, results, errors)
    return SweepResult(worker, results, errors)


def _record_heartbeat(ctx: Context, worker: str, results: dict[str, str], errors: dict[str, str]) -> None:
    """Upsert the worker's row (one statement, so two workers of one name never collide)."""
    now = ctx.clock()
    values = {"name": worker, "last_sweep_at": now, "last_result": "; ".join(f"{k}: {v}" for k, v in results.items()),
              "last_error": "; ".join(f"{k}: {v}" for k, v in errors.items()) or None}
    if not errors:
        values["last_ok_at"] = now
    dialect = postgresql if ctx.is_postgres else sqlite
    statement = dialect.insert(WorkerHeartbeat).values(values)
    statement = statement.on_conflict_do_update(index_elements=["name"],
                                                set_={k: v for k, v in values.items() if k != "name"})
    try:
        with ctx.uow() as uow:
            uow.session.execute(statement)
            uow.commit()
    except Exception:  # the database may be what failed; the heartbeat must not end the worker either
        log.exception("%s: could not record the heartbeat", worker)
