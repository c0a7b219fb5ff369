"""SQL statements per lifecycle and per timer firing: a cost that does not depend on the machine's speed.

Counted with SQLAlchemy's `before_cursor_execute` event on the context's engine; an executemany counts once
(one call into the driver). Transaction control (BEGIN, COMMIT, ROLLBACK) is left out: its cost is the commit,
not a statement the hot path chose to issue. Savepoints count.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event

from engine.bench.common import PROCESS_ID, START_DATA
from engine.bench.lifecycle import open_task_id
from engine.services.context import Context
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class StatementCount:
    """The statements seen while counting; `count` is how many."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(ctx: Context) -> Iterator[StatementCount]:
    """Count the statements `ctx`'s engine sends inside the block (excluding BEGIN/COMMIT/ROLLBACK)."""
    seen = StatementCount()

    def record(_conn, _cursor, statement: str, _parameters, _context, _executemany) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen.statements.append(statement)

    event.listen(ctx.db, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ctx.db, "before_cursor_execute", record)


def lifecycle_statements(ctx: Context) -> int:
    """Statements of start → approve → end (job_approval deployed); the task lookup between is not counted."""
    with count_statements(ctx) as started:
        instance_id = start_instance(ctx, PROCESS_ID, dict(START_DATA))
    task_id = open_task_id(ctx, instance_id, "review_job")
    with count_statements(ctx) as approved:
        complete_task(ctx, task_id, {"decision": "approve"})
    return started.count + approved.count


def timer_firing_statements(ctx: Context) -> int:
    """Statements of one `fire_due_timers` that fires one instance's approval period (nothing else due)."""
    start_instance(ctx, PROCESS_ID, {**START_DATA, "reminder_interval": "P30D"})
    with count_statements(ctx) as fired:
        advanced = fire_due_timers(ctx, ctx.clock() + timedelta(days=8))
    if len(advanced) != 1:
        raise RuntimeError(f"statements: expected one instance to fire, got {advanced}")
    return fired.count


def measure_statements(ctx: Context) -> dict:
    return {"per_lifecycle": lifecycle_statements(ctx), "per_timer_firing": timer_firing_statements(ctx)}
