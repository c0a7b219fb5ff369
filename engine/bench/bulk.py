"""A portal bulk decision: one contact approves `items` open reviews at once through `decide_tasks`.

The reviews are copies of one waiting job_approval instance of the contact's customer; the bench fails
unless every item comes back decided ("approved"), one result per item.
"""

import time

from sqlalchemy import select

from engine.bench.common import PROCESS_ID, START_DATA, open_bench_context
from engine.bench.seed import clone, read_template
from engine.models import HumanTask
from engine.services.context import Actor
from engine.services.instances import start_instance
from engine.services.portal_decisions import decide_tasks

CUSTOMER_ID = 1


def measure_bulk(url: str, items: int) -> dict:
    ctx = open_bench_context(url)
    try:
        template_id = start_instance(ctx, PROCESS_ID, {**START_DATA, "customer_id": CUSTOMER_ID})
        ids = [template_id, *clone(ctx, read_template(ctx, template_id), items - 1)]
        with ctx.uow() as uow:
            task_ids = list(uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id.in_(ids))
                                                .order_by(HumanTask.id)))
        contact = Actor("bench@customer.example", frozenset({"customer"}), frozenset({CUSTOMER_ID}))
        started = time.perf_counter()
        results = decide_tasks(ctx, contact, task_ids, "approve")
        seconds = time.perf_counter() - started
    finally:
        ctx.db.dispose()
    failed = [r for r in results if not r["ok"]]
    if len(results) != items or failed:
        raise RuntimeError(f"bulk: {len(results)} results for {items} items, {len(failed)} failed: {failed[:3]}")
    return {"items": items, "seconds": seconds, "per_item_ms": seconds * 1000 / items}
