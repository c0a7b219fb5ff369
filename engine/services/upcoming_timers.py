"""What fires when across cases (keyset paged, in the actor's scope), and each reminder's catch-up choice.

A reminder (a repeating timer) whose cycle came while no worker ran is, by default, sent once when the sweeper is
back ("replay"); a case may instead "skip" it, so the next reminder simply comes on time. Deadlines (approval
periods) always fire: skipping one would leave the case waiting for ever. The sweeper (engine.services.timers)
asks `skip_if_chosen` only for a reminder overdue by more than CATCH_UP_GRACE, so an on-time sweep reads nothing more.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.isotime import due_words, iso
from engine.models import (
    CatchUp,
    Customer,
    InstanceEvent,
    InstanceStatus,
    StaffRole,
    Timer,
    TimerCatchUp,
    WorkflowInstance,
)
from engine.services.context import Actor, Context
from engine.services.element_names import element_names
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.staff_scope import actor_sees
from engine.workflow import runtime
from engine.workflow.catch_up import is_repeating, skip_cycle
from engine.workflow.waits import timer_due

CATCH_UP_GRACE = timedelta(minutes=10)  # later than this, a reminder was missed (sweeps run every few seconds)
SOONEST = Keyset("timers", (Timer.due_at, Timer.id), ("datetime", "int"))


def is_reminder(kind: str) -> bool:
    """A timer row's kind (its event definition's class) is a repeating timer."""
    return "Cycle" in kind


def skip_if_chosen(session: Session, loaded: runtime.LoadedInstance, task, now: datetime) -> bool:
    """For the sweeper, of a timer overdue by more than CATCH_UP_GRACE: if it is a reminder whose case chose "skip",
    move it to its next cycle after `now` without sending it, record that, and say so (True)."""
    if not is_repeating(task):
        return False
    element_id = task.task_spec.bpmn_id
    choice = session.scalar(select(TimerCatchUp.choice).where(TimerCatchUp.instance_id == loaded.row.id,
                                                              TimerCatchUp.element_id == element_id))
    if choice != CatchUp.SKIP:
        return False
    missed = timer_due(task)
    skip_cycle(task, now)
    loaded.add_event("timer_skipped", now, element_id, data={"missed": iso(missed)})
    return True


def list_upcoming_timers(ctx: Context, actor: Actor, process_id: str = "", cursor: str = "",
                         size: int = PAGE_SIZE) -> Page:
    """One page of the waiting timers of running cases in the actor's scope, soonest first, with the element's
    name, the case's customer and, for reminders, the catch-up choice ("always" for deadlines).

    :raises InvalidInput: a cursor that is not a page link of this list with this filter.
    """
    if len(process_id) > 200:
        raise InvalidInput("process: longer than 200 characters")
    query = (select(Timer, WorkflowInstance.process_id, WorkflowInstance.process_version_id, Customer.name,
                    TimerCatchUp.choice)
             .join(WorkflowInstance, WorkflowInstance.id == Timer.instance_id)
             .outerjoin(Customer, Customer.id == WorkflowInstance.customer_id)
             .outerjoin(TimerCatchUp, (TimerCatchUp.instance_id == Timer.instance_id)
                        & (TimerCatchUp.element_id == Timer.element_id))
             .where(WorkflowInstance.status == InstanceStatus.RUNNING, actor_sees(actor, WorkflowInstance.customer_id)))
    if process_id:
        query = query.where(WorkflowInstance.process_id == process_id)
    now = ctx.clock()
    with ctx.read() as uow:
        rows, after, before = fetch_page(uow.session, query, SOONEST, {"process": process_id}, cursor,
                                         lambda row: (row[0].due_at, row[0].id), size)
        names = {version: element_names(uow.session, version) for version in {row[2] for row in rows}}
    views = []
    for timer, process, version, customer, choice in rows:
        reminder = is_reminder(timer.kind)
        views.append({
            "id": timer.id, "instance_id": timer.instance_id, "process_id": process, "customer_name": customer,
            "element_id": timer.element_id, "element_name": names[version].get(timer.element_id, timer.element_id),
            "kind": "reminder" if reminder else "deadline", "due_at": iso(timer.due_at),
            "due_words": due_words(timer.due_at, now),
            "missed": timer.due_at < now - CATCH_UP_GRACE,
            "catch_up": (choice or CatchUp.REPLAY) if reminder else "always"})
    return Page(views, after, before)


def set_catch_up(ctx: Context, actor: Actor, instance_id: int, element_id: str, choice: str) -> str:
    """Choose what a missed reminder of a case does: "replay" (sent once, late) or "skip"; recorded in its history.
    Returns the reminder's name in the case's version.

    :raises NotAllowed: an actor who is not an admin or a manager (or the system).
    :raises NotFound: no such case in the actor's scope.
    :raises InvalidInput: an unknown choice, or an element that is not a reminder the case waits on.
    """
    if not (actor.is_system or actor.staff_role in (StaffRole.ADMIN, StaffRole.MANAGER)):
        raise NotAllowed("only admins and managers may choose how missed reminders catch up")
    if choice not in set(CatchUp):
        raise InvalidInput(f"catch-up: {choice!r} is not one of {', '.join(CatchUp)}")
    with ctx.uow() as uow:
        session = uow.session
        version_id = session.scalar(select(WorkflowInstance.process_version_id).where(
            WorkflowInstance.id == instance_id, actor_sees(actor, WorkflowInstance.customer_id)))
        if version_id is None:
            raise NotFound(f"no instance {instance_id}")
        kinds = session.scalars(select(Timer.kind).where(Timer.instance_id == instance_id,
                                                         Timer.element_id == element_id)).all()
        if not any(is_reminder(kind) for kind in kinds):
            raise InvalidInput(f"timer: instance {instance_id} waits on no reminder {element_id!r}")
        row = session.get(TimerCatchUp, (instance_id, element_id))
        if row is None:
            row = TimerCatchUp(instance_id=instance_id, element_id=element_id)
            session.add(row)
        row.choice, row.set_by, row.set_at = choice, actor.name, ctx.clock()
        session.add(InstanceEvent(instance_id=instance_id, at=ctx.clock(), kind="catch_up_set",
                                  element_id=element_id, actor=actor.name, data={"choice": choice}))
        name = element_names(session, version_id).get(element_id, element_id)
        uow.commit()
    return name
