"""Many instances cheaply: copy one real instance's rows with bulk Core INSERTs instead of running the process.

A template instance is started (and advanced) through the services; `clone` copies its workflow_instance,
human_task and timer rows `count` times. Every SpiffWorkflow task id (a UUID) is replaced consistently in the
state and in the derived rows, so each copy is a valid instance of its own that the runtime can load and
advance (the sweep and the bulk decision do). History events are not copied: nothing measured reads them.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select

from engine.models import HumanTask, Timer, WorkflowInstance
from engine.services.context import Context

# a task id as the rows have it (dashed) and as the flat state format stores it (32 hex digits)
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
BATCH = 1_000

Customize = Callable[[int], dict]  # copy number -> column overrides for the instance and its tasks


@dataclass(frozen=True)
class Template:
    """One instance's rows as plain dicts (without ids), ready to copy."""

    instance: dict
    tasks: list[dict]
    timers: list[dict]


def _row(obj, skip: tuple[str, ...]) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


def read_template(ctx: Context, instance_id: int) -> Template:
    with ctx.uow() as uow:
        session = uow.session
        row = session.get(WorkflowInstance, instance_id)
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        timers = session.scalars(select(Timer).where(Timer.instance_id == instance_id))
        return Template(_row(row, ("id",)), [_row(t, ("id", "instance_id")) for t in tasks],
                        [_row(t, ("id", "instance_id")) for t in timers])


def _copy(template: Template, overrides: dict) -> tuple[dict, list[dict], list[dict]]:
    fresh: dict[str, uuid.UUID] = {}

    def renew(match: re.Match) -> str:
        new = fresh.setdefault(match[0].replace("-", ""), uuid.uuid4())
        return str(new) if "-" in match[0] else new.hex

    instance = {**template.instance, "state": UUID.sub(renew, template.instance["state"])}
    task_overrides = {key: overrides[key] for key in ("customer_id", "due_at") if key in overrides}
    tasks = [{**t, "spiff_task_id": UUID.sub(renew, t["spiff_task_id"]), **task_overrides} for t in template.tasks]
    timers = [{**t, "spiff_task_id": UUID.sub(renew, t["spiff_task_id"])} for t in template.timers]
    if "customer_id" in overrides:
        instance["customer_id"] = overrides["customer_id"]
        instance["data"] = {**instance["data"], "customer_id": overrides["customer_id"]}
    if "title" in overrides:
        instance["data"] = {**instance["data"], "title": overrides["title"]}
    return instance, tasks, timers


def clone(ctx: Context, template: Template, count: int, customize: Customize | None = None,
          progress: Callable[[int], None] | None = None) -> list[int]:
    """Insert `count` copies of the template (in batches, one transaction each); returns the new instance ids.

    `customize(n)` may override customer_id, due_at (of the tasks) and title for copy n.
    """
    ids: list[int] = []
    for first in range(0, count, BATCH):
        copies = [_copy(template, customize(n) if customize else {}) for n in range(first, min(count, first + BATCH))]
        with ctx.db.begin() as conn:
            new_ids = list(conn.execute(insert(WorkflowInstance).returning(
                WorkflowInstance.id, sort_by_parameter_order=True), [c[0] for c in copies]).scalars())
            tasks = [{**t, "instance_id": iid} for iid, c in zip(new_ids, copies, strict=True) for t in c[1]]
            timers = [{**t, "instance_id": iid} for iid, c in zip(new_ids, copies, strict=True) for t in c[2]]
            if tasks:
                conn.execute(insert(HumanTask), tasks)
            if timers:
                conn.execute(insert(Timer), timers)
        ids.extend(new_ids)
        if progress:
            progress(len(ids))
    return ids
