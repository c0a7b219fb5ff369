"""A regression guard that does not depend on timing: the SQL statements of one lifecycle and of one timer firing.

The ceilings are today's counts (BEGIN/COMMIT/ROLLBACK excluded, savepoints included, an executemany counts
once). They are ceilings to be lowered as the hot path gets faster (target: at most 16 per lifecycle); a change
that adds statements to the hot path fails here on both databases.
"""

from engine.bench.statements import count_statements, lifecycle_statements, timer_firing_statements
from engine.services.inbox import list_process_ids

LIFECYCLE_CEILING = 35  # start -> review_job approve -> end, measured 2026-12; lower it as it drops (target 16)
TIMER_FIRING_CEILING = 18  # one fire_due_timers firing one instance's approval period, measured 2026-12


def test_one_lifecycle_stays_within_its_statement_ceiling(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
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
