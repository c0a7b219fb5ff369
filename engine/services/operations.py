"""Operator actions on cases: claim, reassign, fire a timer now, retry, cancel, set a variable.

Each public function is one transaction under the instance's row lock (FOR UPDATE on PostgreSQL; SQLite
serializes writers) and bumps its version counter, so of two operators on the same case exactly one wins and
the other gets a clear answer. Admins act on every case, managers on their own customers' cases (out of scope
is NotFound, as an unknown id), employees and contacts not at all (NotAllowed); the system (CLI) acts on all.
Every action is an instance_event with the actor and, where one is required, the reason. The case's scope is
checked before the input (reason, name, value), so a case out of scope is NotFound whatever is posted.
"""

import json
import keyword
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import HumanTask, HumanTaskStatus, InstanceEvent, InstanceStatus, StaffUser, Timer
from engine.models import WorkflowInstance as Instance
from engine.services.context import Actor, Context
from engine.services.instances import advance, cancel_locked, check_variables, conflicts, lock_for_advance
from engine.services.retry_version import newest_version_for_retry
from engine.services.staff_auth import StaffView
from engine.services.staff_scope import actor_sees
from engine.services.task_offer import stand_ins_for_task
from engine.services.timers import fire_timer_task
from engine.workflow import runtime
from engine.workflow.timers import make_due_now
from engine.workflow.variables import set_workflow_variable

REASON_CHARS = 500
NAME_CHARS = 100


def _ensure_operator(actor: Actor) -> None:
    """:raises NotAllowed: anyone but the system, an admin or a manager."""
    if not (actor.is_system or actor.staff_role in ("admin", "manager")):
        raise NotAllowed("only admins and managers may operate cases")


def check_reason(reason: str | None) -> str:
    """The trimmed reason. :raises InvalidInput: empty, or longer than REASON_CHARS."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("reason: say why (it is kept in the case's history)")
    if len(text) > REASON_CHARS:
        raise InvalidInput(f"reason: at most {REASON_CHARS} characters, got {len(text)}")
    return text


def _locked_case(session: Session, actor: Actor, instance_id: int) -> tuple[Instance, str]:
    """The case in the actor's scope, locked, with its spec key. :raises NotFound: unknown or out of scope."""
    if session.scalar(select(Instance.id).where(Instance.id == instance_id,
                                                actor_sees(actor, Instance.customer_id))) is None:
        raise NotFound(f"no instance {instance_id}")
    row, key = lock_for_advance(session, instance_id)
    if row is None:
        raise NotFound(f"no instance {instance_id}")
    return row, key


def _locked_open_task(session: Session, actor: Actor, task_id: int) -> tuple[HumanTask, Instance]:
    """An open task of a running case in the actor's scope, read after its case was locked.

    :raises NotFound: unknown or out of scope. :raises InvalidInput: decided, withdrawn or not running.
    """
    instance_id = session.scalar(select(HumanTask.instance_id).where(
        HumanTask.id == task_id, actor_sees(actor, HumanTask.customer_id)))
    if instance_id is None:
        raise NotFound(f"no task {task_id}")
    row, _ = _locked_case(session, actor, instance_id)
    human = session.scalar(select(HumanTask).where(HumanTask.id == task_id)
                           .execution_options(populate_existing=True))
    if human.status != HumanTaskStatus.OPEN:
        by = f" by {human.completed_by}" if human.completed_by else ""
        raise InvalidInput(f"task {task_id} ({human.name}) is already {human.status}{by}")
    if row.status != InstanceStatus.RUNNING:
        raise InvalidInput(f"instance {row.id} is {row.status}; its tasks cannot be claimed or reassigned")
    return human, row


def _record(session: Session, ctx: Context, row: Instance, kind: str, actor: Actor, element: str | None,
            data: dict) -> None:
    """The action's event, and the version counter's bump (the ORM checks it: ConcurrentUpdate)."""
    now = ctx.clock()
    row.updated_at = now
    session.add(InstanceEvent(instance_id=row.id, at=now, kind=kind, element_id=element, actor=actor.name,
                              data=data))
    session.flush()


def claim_task(ctx: Context, actor: Actor, task_id: int) -> dict:
    """Take an open staff- or manager-lane task: from now on it is offered to the actor only (and its stand-ins).

    :raises NotAllowed: see _ensure_operator; the system (no one to assign to); another lane.
    :raises NotFound: unknown task, or of a case outside the actor's scope.
    :raises InvalidInput: the task is decided or claimed by someone else, or in the Customer lane.
    :raises ConcurrentUpdate: the case changed under its lock.
    """
    _ensure_operator(actor)
    if actor.staff_id is None:
        raise NotAllowed("only a staff member can claim a task (signoff task claim ID --as EMAIL)")
    with ctx.uow() as uow, conflicts():
        session = uow.session
        human, row = _locked_open_task(session, actor, task_id)
        _refuse_customer_lane(human)
        if human.assignee_staff_id == actor.staff_id:
            raise InvalidInput(f"task {task_id} ({human.name}) is already yours")
        if human.assignee_staff_id is not None:
            holder = session.get(StaffUser, human.assignee_staff_id)
            raise InvalidInput(f"task {task_id} ({human.name}) is already claimed by "
                               f"{holder.name if holder else 'someone else'}; reassign it instead")
        if not actor.can_complete(human.role, human.customer_id):
            raise NotAllowed(f"task {task_id} belongs to another lane ({human.lane})")
        human.assignee_staff_id = actor.staff_id
        _record(session, ctx, row, "task_claimed", actor, human.element_id, {"task_id": task_id})
        view = {"task_id": task_id, "instance_id": row.id, "assignee_staff_id": actor.staff_id}
        uow.commit()
        return view


def _refuse_customer_lane(human: HumanTask) -> None:
    if human.role == "customer":
        raise InvalidInput(f"task {human.id} ({human.name}) is in the {human.lane} lane: the customer's "
                           "contacts decide it, so it cannot be claimed by or reassigned to staff")


def reassign_task(ctx: Context, actor: Actor, task_id: int, to_staff_id: int, reason: str) -> dict:
    """Give an open staff- or manager-lane task to a named staff member, with a reason.

    :raises NotAllowed: see _ensure_operator. :raises NotFound: unknown task or staff member, or out of scope.
    :raises InvalidInput: no reason; the Customer lane; the staff member is inactive, of another lane, cannot
        see the case (and stands in today for no one who could take it), or already has it; the task is
        decided. :raises ConcurrentUpdate: see claim_task.
    """
    _ensure_operator(actor)
    with ctx.uow() as uow, conflicts():
        session = uow.session
        human, row = _locked_open_task(session, actor, task_id)  # out of scope: NotFound before any input check
        reason = check_reason(reason)
        _refuse_customer_lane(human)
        target = session.get(StaffUser, to_staff_id)
        if target is None:
            raise NotFound(f"to: no staff member {to_staff_id}")
        _check_assignee(session, human, target, ctx.clock().date())
        before = human.assignee_staff_id
        human.assignee_staff_id = target.id
        _record(session, ctx, row, "task_reassigned", actor, human.element_id,
                {"task_id": task_id, "from_staff_id": before, "to_staff_id": target.id, "to": target.name,
                 "reason": reason})
        view = {"task_id": task_id, "instance_id": row.id, "assignee_staff_id": target.id, "assignee": target.name}
        uow.commit()
        return view


def _check_assignee(session: Session, human: HumanTask, target: StaffUser, today: date) -> None:
    """Someone of the lane who sees the case, or holiday cover: who stands in today for such a one.

    :raises InvalidInput: the staff member cannot take the task (named, with why).
    """
    if not target.active:
        raise InvalidInput(f"to: {target.name} is not active")
    if human.assignee_staff_id == target.id:
        raise InvalidInput(f"to: task {human.id} is already assigned to {target.name}")
    if any(cover["id"] == target.id for cover in stand_ins_for_task(session, human, today, offered=False)):
        return
    target_actor = StaffView(target.id, target.email, target.name, target.role, False).actor
    if not target_actor.can_complete(human.role, human.customer_id):
        raise InvalidInput(f"to: {target.name} ({target.role}) does not work in the {human.lane} lane")
    if session.scalar(select(Instance.id).where(Instance.id == human.instance_id,
                                                actor_sees(target_actor, Instance.customer_id))) is None:
        raise InvalidInput(f"to: {target.name} does not work for this case's customer")


def fire_timer_now(ctx: Context, actor: Actor, timer_id: int, reason: str) -> dict:
    """Fire one waiting timer of a running case now, through the runtime, with a reason.

    :raises NotAllowed: see _ensure_operator. :raises NotFound: unknown timer, or of a case out of scope.
    :raises InvalidInput: no reason; the case is not running, or the timer fired meanwhile.
    :raises ConcurrentUpdate: the case changed under its lock.
    """
    _ensure_operator(actor)
    with ctx.uow() as uow, conflicts():
        session = uow.session
        found = session.execute(select(Timer.instance_id, Timer.spiff_task_id, Timer.element_id).where(
            Timer.id == timer_id)).first()
        if found is None:
            raise NotFound(f"no timer {timer_id}")
        row, key = _locked_case(session, actor, found.instance_id)
        reason = check_reason(reason)
        if row.status != InstanceStatus.RUNNING:
            raise InvalidInput(f"instance {row.id} is {row.status}; its timers do not fire")
        loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
        waiting = {str(task.id): task for task, _ in runtime.waiting_timers(loaded.workflow)}
        task = waiting.get(found.spiff_task_id)
        if task is None:
            raise InvalidInput(f"timer {timer_id} ({found.element_id}) is no longer waiting")
        now = ctx.clock()
        # before the act: kept in the history even when what the timer releases fails (the case's `error`)
        loaded.add_event("timer_fired_now", now, found.element_id, actor.name, {"timer_id": timer_id, "reason": reason})

        def fire() -> None:
            make_due_now(task, now)
            fire_timer_task(loaded, task, now)

        advance(ctx, session, loaded, fire, actor.name)
        view = {"instance_id": row.id, "element_id": found.element_id, "status": row.status,
                "error": row.error_message}
        uow.commit()
        return view


def retry_instance(ctx: Context, actor: Actor, instance_id: int, reason: str, newest_version: bool = False) -> dict:
    """Run a case in `error` again from its last good state (optionally on its process's newest version, when
    every element it is at exists there); a retry that fails again stays in `error` with the new message.

    :raises NotAllowed: see _ensure_operator. :raises NotFound: unknown case or out of scope.
    :raises InvalidInput: no reason; the case is not in error; the newest version lacks its elements.
    :raises ConcurrentUpdate: the case changed under its lock.
    """
    _ensure_operator(actor)
    with ctx.uow() as uow, conflicts():
        session = uow.session
        row, key = _locked_case(session, actor, instance_id)
        reason = check_reason(reason)
        if row.status != InstanceStatus.ERROR:
            raise InvalidInput(f"instance {instance_id} is {row.status}, not in error: nothing to retry")
        loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
        data = {"reason": reason, "error": row.error_message, "element_id": row.error_element}
        if newest_version:
            loaded, data["version"] = newest_version_for_retry(session, ctx, loaded)
        for name, value in (("status", InstanceStatus.RUNNING), ("error_message", None), ("error_element", None)):
            set_committed_value(row, name, value)  # written by the save (or the failure's plan) in one UPDATE
        loaded.add_event("instance_retried", ctx.clock(), actor=actor.name, data=data)
        advance(ctx, session, loaded, lambda: None, actor.name)
        view = {"instance_id": row.id, "status": row.status, "error": row.error_message,
                "error_element": row.error_element}
        uow.commit()
        return view


def cancel_case(ctx: Context, actor: Actor, instance_id: int, reason: str) -> dict:
    """Cancel a running case (or one in error) with a reason: its tasks are withdrawn, its timers removed.

    :raises NotAllowed: see _ensure_operator. :raises NotFound: unknown case or out of scope.
    :raises InvalidInput: no reason, or the case has ended. :raises ConcurrentUpdate: see claim_task.
    """
    _ensure_operator(actor)
    with ctx.uow() as uow, conflicts():
        _locked_case(uow.session, actor, instance_id)
        row = cancel_locked(ctx, uow.session, instance_id, actor, check_reason(reason))
        view = {"instance_id": row.id, "status": row.status}
        uow.commit()
        return view


def check_variable_name(name: str) -> str:
    """:raises InvalidInput: not a Python identifier a script can read, a keyword, or private (leading _)."""
    name = (name or "").strip()
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_") or len(name) > NAME_CHARS:
        raise InvalidInput(f"name: {name!r} is not a variable name (letters, digits and _, not first a digit "
                           f"or _, at most {NAME_CHARS} characters)")
    return name


def parse_value(value_json: str) -> object:
    """:raises InvalidInput: the value is not JSON."""
    try:
        return json.loads(value_json)
    except (json.JSONDecodeError, TypeError, RecursionError) as err:
        where = f": {err.msg} at character {err.pos}" if isinstance(err, json.JSONDecodeError) else ""
        raise InvalidInput(f"value is not valid JSON{where} (a string needs quotes: '\"text\"')") from None


def set_variable(ctx: Context, actor: Actor, instance_id: int, name: str, value_json: str, reason: str) -> dict:
    """Set one variable of a running case (or one in error) to a JSON value, recorded with the old and new
    value; the steps still to come see it.

    :raises NotAllowed: see _ensure_operator. :raises NotFound: unknown case or out of scope.
    :raises InvalidInput: a bad name, a value that is not JSON or over the data limits, no reason, or the
        case has ended. :raises ConcurrentUpdate: see claim_task.
    """
    _ensure_operator(actor)
    with ctx.uow() as uow, conflicts():
        session = uow.session
        row, key = _locked_case(session, actor, instance_id)  # out of scope: NotFound before any input check
        name, value, reason = check_variable_name(name), parse_value(value_json), check_reason(reason)
        if row.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
            raise InvalidInput(f"instance {instance_id} is {row.status}: its variables can no longer change")
        check_variables(ctx, {**(row.data or {}), name: value}, "value")
        loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
        old = (row.data or {}).get(name)
        set_workflow_variable(loaded.workflow, name, value)
        loaded.add_event("variable_set", ctx.clock(), actor=actor.name,
                         data={"name": name, "old": old, "new": value, "was_set": name in (row.data or {}),
                               "reason": reason})
        runtime.save(session, loaded, actor.name)
        uow.commit()
        return {"instance_id": row.id, "name": name, "old": old, "new": value}
