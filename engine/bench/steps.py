"""State size and step latency against history: does a `complete_task` get slower as an instance loops?

One instance loops review_job → query → answer_query → review_job; at the first wait and at each loop mark the
saved state's bytes are read and `samples` query steps (load + step + save, one transaction) are timed.
"""

import statistics
import time

from engine.bench.common import PROCESS_ID, START_DATA
from engine.bench.lifecycle import open_task_id
from engine.models import WorkflowInstance
from engine.services.context import Context
from engine.services.instances import complete_task, start_instance


def _state_bytes(ctx: Context, instance_id: int) -> int:
    with ctx.uow() as uow:
        return len(uow.session.get(WorkflowInstance, instance_id).state)


def _query_loop(ctx: Context, instance_id: int) -> float:
    """review_job → query → answer_query → back at review_job; returns the ms of the query step."""
    review = open_task_id(ctx, instance_id, "review_job")
    started = time.perf_counter()
    complete_task(ctx, review, {"decision": "query", "comment": "Which rooms?"})
    elapsed_ms = (time.perf_counter() - started) * 1000
    complete_task(ctx, open_task_id(ctx, instance_id, "answer_query"), {"answer": "All of them."})
    return elapsed_ms


def measure_state_and_steps(ctx: Context, loop_marks: tuple[int, ...], samples: int) -> tuple[dict, dict]:
    """State bytes at the first wait and at each loop mark; the median step ms on fresh instances (`loops_0`),
    at each mark (`by_loops`, for the chart) and at the last mark (`loops_<last>`)."""
    instance_id = start_instance(ctx, PROCESS_ID, dict(START_DATA))
    sizes = {"first_wait": _state_bytes(ctx, instance_id)}
    by_loops: dict[str, float] = {}
    done = 0
    for mark in sorted(loop_marks):
        while done < mark:
            _query_loop(ctx, instance_id)
            done += 1
        sizes[f"loops_{mark}"] = _state_bytes(ctx, instance_id)
        by_loops[str(mark)] = statistics.median(_query_loop(ctx, instance_id) for _ in range(samples))
        done += samples
    fresh = [_query_loop(ctx, start_instance(ctx, PROCESS_ID, dict(START_DATA))) for _ in range(samples)]
    last = max(loop_marks)
    steps = {"loops_0": statistics.median(fresh), f"loops_{last}": by_loops[str(last)], "samples": samples,
             "by_loops": {"0": statistics.median(fresh), **by_loops}}
    return sizes, steps
