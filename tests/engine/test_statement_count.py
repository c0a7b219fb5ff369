"""A regression guard that does not depend on timing: the SQL statements of one lifecycle and of one timer firing.

The ceilings are the counts the hot path reaches (BEGIN/COMMIT/ROLLBACK excluded, savepoints included, an executemany
counts once), with the version's spec already parsed. They are ceilings to be lowered as the hot path gets faster; a
change that adds statements to the hot path fails here on both databases.
"""

from engine.bench.common import PROCESS_ID, START_DATA
from engine.bench.statements import count_statements, lifecycle_statements, timer_firing_statements
from engine.services.inbox import list_process_ids
from engine.services.instances import start_instance

LIFECYCLE_CEILING = 16  # start -> review_job approve -> end (35 before the handlers recorded their writes)
TIMER_FIRING_CEILING = 9  # one fire_due_timers firing one instance's approval period (18, then 10 before)


def warm(ctx) -> None:
    """Start one instance first: the version's spec is read and parsed once per process (not counted)."""
    start_instance(ctx, PROCESS_ID, dict(START_DATA))


def test_one_lifecycle_stays_within_its_statement_ceiling(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    warm(ctx)
    assert lifecycle_statements(ctx) <= LIFECYCLE_CEILING


def test_one_timer_firing_stays_within_its_statement_ceiling(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    assert timer_firing_statements(ctx) <= TIMER_FIRING_CEILING


def test_the_counter_sees_statements_but_not_transaction_control(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    with count_statements(ctx) as seen:
        list_process_ids(ctx)
    assert seen.count == 1 and seen.statements[0].lstrip().upper().startswith("SELECT")
    with count_statements(ctx) as outside:
        pass
    list_process_ids(ctx)
    assert outside.count == 0  # the listener is removed when the block ends
