"""The bench's split of a lifecycle's time: the timed driver sees the statements and commits on both databases, the
parts add up to the wall time, and the rows are still written as without it (no timing asserts)."""

import sqlalchemy as sa

from engine.bench.split import bare_transaction, measure_split
from engine.models import HumanTask, WorkflowInstance


def test_the_split_names_every_part_and_they_add_up(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    split = measure_split(ctx, 10, 1)
    for key in ("lifecycle", "start", "complete_task"):
        f = split[key]
        assert f["driver_ms"] > 0 and f["wall_ms"] >= f["driver_ms"], key
        if f["samples"]:  # (a run this short may end before the sampler names anything)
            assert abs(f["driver_ms"] + f["spiff_ms"] + f["sqlalchemy_ms"] + f["ours_ms"] - f["wall_ms"]) < 0.01, key
        assert abs(f["cpu_ms"] + f["wait_ms"] - f["wall_ms"]) < 0.01, key
    with ctx.uow() as uow:  # the timed connections wrote what the plain ones would
        statuses = set(uow.session.scalars(sa.select(WorkflowInstance.status)))
        tasks = uow.session.scalar(sa.select(sa.func.count()).select_from(HumanTask).where(HumanTask.status == "open"))
    assert statuses == {"completed"} and tasks == 0


def test_the_bare_transaction_floor_is_measured_and_leaves_nothing_behind(database_url):
    if database_url.startswith("sqlite"):
        sa.create_engine(database_url).dispose()  # (the file exists once the bench has migrated it)
    floor = bare_transaction(database_url, samples=20)
    assert floor["total_ms"] >= floor["commit_ms"] > 0
    engine = sa.create_engine(database_url)
    try:
        assert not {"bench_floor_row", "bench_floor_event"} & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
