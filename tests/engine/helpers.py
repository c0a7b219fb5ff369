"""Small readers over the derived rows, and a way to run calls at the same moment, shared by the tests."""

import threading

from sqlalchemy import select

from engine.models import HumanTask, HumanTaskStatus, InstanceEvent, OutboxMessage, Timer, WorkflowInstance

JOB_START = {
    "customer_id": 7, "job_id": 11, "manager_id": 3, "title": "Office cleaning, November",
    "approval_period": "P7D", "reminder_interval": "P2D", "period_end_action": "auto_approve",
    "minimum_resume_period": "P1D",
}


def open_tasks(ctx, instance_id: int) -> list[HumanTask]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN)))


def only_open_task(ctx, instance_id: int, element_id: str) -> HumanTask:
    tasks = open_tasks(ctx, instance_id)
    assert [t.element_id for t in tasks] == [element_id]
    return tasks[0]


def instance(ctx, instance_id: int) -> WorkflowInstance:
    with ctx.uow() as uow:
        return uow.session.get(WorkflowInstance, instance_id)


def timers(ctx, instance_id: int) -> list[Timer]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Timer).where(Timer.instance_id == instance_id)
                                        .order_by(Timer.due_at)))


def events(ctx, instance_id: int, kind: str | None = None) -> list[InstanceEvent]:
    query = select(InstanceEvent).where(InstanceEvent.instance_id == instance_id).order_by(InstanceEvent.id)
    if kind:
        query = query.where(InstanceEvent.kind == kind)
    with ctx.uow() as uow:
        return list(uow.session.scalars(query))


def completed_elements(ctx, instance_id: int) -> list[str]:
    return [e.element_id for e in events(ctx, instance_id, "element_completed")]


def outbox(ctx, instance_id: int) -> list[str]:
    with ctx.uow() as uow:
        return [m.template for m in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.instance_id == instance_id).order_by(OutboxMessage.id))]


def run_together(*calls):
    """Run each call in its own thread, released at the same moment; returns (value, error) per call."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        try:
            results[i] = (call(), None)
        except Exception as err:  # noqa: BLE001  (recorded and asserted on by the test)
            results[i] = (None, err)

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results
