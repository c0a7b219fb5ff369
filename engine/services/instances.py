"""Starting, advancing and cancelling process instances (each call one transaction)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.db import Prebuilt
from engine.errors import ConcurrentUpdate, InvalidInput, NotFound, TaskAlreadyCompleted
from engine.models import (
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    InstanceStatus,
    WorkflowInstance,
)
from engine.services.context import SYSTEM, Actor, Context
from engine.services.staff_scope import actor_sees
from engine.services.task_offer import check_may_complete, findable_by
from engine.workflow import runtime, store
from engine.workflow.data_limits import variable_problem
from engine.workflow.forms import form_for_pages as form_for_pages  # the pages' view of a task's form
from engine.workflow.forms import validate_form

ERROR_MESSAGE_CHARS = 1000


def lock_instance(session: Session, instance_id: int, skip_locked: bool = False) -> WorkflowInstance | None:
    """Load the instance row under a row lock (FOR UPDATE on PostgreSQL; SQLite serializes writers)."""
    query = select(WorkflowInstance).where(WorkflowInstance.id == instance_id)
    query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return session.scalar(query)


def lock_for_advance(session: Session, instance_id: int,
                     skip_locked: bool = False) -> tuple[WorkflowInstance, str] | tuple[None, None]:
    """The locked instance row with its version's spec key (read in the same statement), or (None, None)."""
    return store.lock_for_advance(session, instance_id, skip_locked)


def advance(ctx: Context, session: Session, loaded: runtime.LoadedInstance, act: Callable[[], None],
            actor: str | None) -> None:
    """Run `act`, then engine steps (on the step budget), check the data, save — or keep the last good state
    (see plan_advance)."""
    runtime.write(session, loaded, plan_advance(ctx, loaded, act, actor))


def plan_advance(ctx: Context, loaded: runtime.LoadedInstance, act: Callable[[], None],
                 actor: str | None) -> runtime.SavePlan:
    """Run `act` and the engine steps, and work out the save, writing nothing.

    Whatever running the model raises is the instance's fault: a script or service task, a timer below
    the floor, the step budget, data over the limits, its serialization (a RecursionError). As nothing
    was written yet, what the act and the steps recorded is simply dropped, and the plan is the
    instance's `error` with the message and element id (its last good state stays); the caller's
    transaction commits that. Database errors are not the model's: they propagate, so the whole
    transaction rolls back; KeyboardInterrupt and SystemExit propagate too (a script's own SystemExit
    arrives here as an ordinary error, see RuntimeScriptEngine).
    """
    before = len(loaded.events)
    try:
        act()
        runtime.run_engine_steps(loaded)
        runtime.check_data(loaded)
        return runtime.prepare(loaded, actor)
    except (SQLAlchemyError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 - see the docstring: the model's fault, whatever it is
        loaded.discard(before)
        return runtime.failure_plan(loaded, ctx.clock(), runtime.failing_element(loaded, err), describe(err))


def describe(err: BaseException) -> str:
    """The first line of an error, with its type when the message alone would say nothing."""
    text = str(err).split("\n")[0].strip()
    if isinstance(err, RecursionError | MemoryError) or not text:
        text = f"{type(err).__name__}: {text or 'no message'}"
    return text[:ERROR_MESSAGE_CHARS]


def mark_error(ctx: Context, session: Session, row: WorkflowInstance, element: str | None, message: str) -> None:
    """Put the instance in `error` with the message and element, and record it as an instance_event."""
    row.status = InstanceStatus.ERROR
    row.error_message = message
    row.error_element = element
    row.updated_at = ctx.clock()
    session.add(InstanceEvent(instance_id=row.id, at=ctx.clock(), kind="error", element_id=element,
                              data={"message": message}))
    session.flush()


def check_variables(ctx: Context, data: dict, what: str) -> None:
    """:raises InvalidInput: `data` over the size or depth limit, naming the variable."""
    problem = variable_problem(data, ctx.settings.data_max_bytes, ctx.settings.data_max_depth)
    if problem:
        raise InvalidInput(f"{what}: {problem}")


def start_instance(ctx: Context, process_id: str, data: dict, actor: Actor = SYSTEM) -> int:
    """Start the newest version of a process with `data` as its variables; returns the instance id.

    :raises NotFound: when no version of the process is deployed.
    :raises InvalidInput: when `data` is not a JSON object.
    """
    with ctx.uow() as uow:
        row, run = create_instance(ctx, uow.session, process_id, data, actor)
        run()
        uow.commit()
        return row.id


def create_instance(ctx: Context, session: Session, process_id: str, data: dict,
                    actor: Actor, case_type: str | None = None) -> tuple[WorkflowInstance, Callable[[], None]]:
    """Run a new instance's first steps and insert its row (flushed, so it has its id); return it with the
    call that writes what the steps did (tasks, timers, the case status on the job and registrations, mails,
    events). `case_type` marks an approval ("job", "timesheet": engine.services.bindings).

    Split in two so a use case can link its own rows to the instance (a job, registrations) before the
    steps' writes reach them, all in the caller's transaction. The row is inserted once, with the state
    after the first steps; if they fail, with the seeded state and the instance's `error`.

    :raises NotFound: when no version of the process is deployed.
    :raises InvalidInput: when `data` is not a JSON object, or a variable is over the size or depth limit.
    """
    if not isinstance(data, dict):
        raise InvalidInput("start data must be a JSON object")
    check_variables(ctx, data, "start data")
    version = store.latest_version(session, process_id)
    if version is None:
        raise NotFound(f"no process {process_id!r} is deployed (signoff deploy FILE)")
    version_id, number, key = version
    now = ctx.clock()
    customer_id = data.get("customer_id")
    row = WorkflowInstance(process_version_id=version_id, process_id=process_id, case_type=case_type,
                           status=InstanceStatus.RUNNING,
                           customer_id=customer_id if isinstance(customer_id, int) else None,
                           started_by_staff_id=actor.staff_id, data=data, created_at=now, updated_at=now)
    loaded = runtime.new_workflow(row, runtime.process_for(session, version_id, key), ctx.clock, ctx.settings, data)
    loaded.add_event("instance_started", now, actor=actor.name, data={"version": number})
    plan = plan_advance(ctx, loaded, lambda: None, actor.name)
    runtime.write_instance(session, loaded, plan)
    return row, lambda: runtime.write_derived(session, loaded, plan)


def complete_task(ctx: Context, task_id: int, data: dict, actor: Actor = SYSTEM,
                  strict: bool = False) -> WorkflowInstance:
    """Complete an open human task with form data; exactly one of two concurrent callers wins.

    A task without a form takes any variables, unless `strict` (pages pass it): then only a comment.

    :raises NotFound: unknown task id, or a task of a case outside the actor's customers.
    :raises TaskAlreadyCompleted: someone decided it first, or a timer or cancel withdrew it.
    :raises NotAllowed: another lane, someone else's task, or the declared separation of duties
        (engine.services.task_offer; a stand-in completes on behalf of the staff member it stands in for).
    :raises InvalidInput: the data does not fit the task's form; nothing is saved.
    :raises ConcurrentUpdate: the instance row changed under its lock (its version counter).
    """
    with ctx.uow() as uow, conflicts():
        row = complete_locked(ctx, uow.session, task_id, data, actor, strict)
        uow.commit()
        return row


def _lock_task(session: Session, task_id: int, actor: Actor,
               today: date) -> tuple[HumanTask, WorkflowInstance, str] | None:
    """The task, if in the actor's scope (or of someone it stands in for), with its instance row locked and
    the version's spec key: one statement.

    On PostgreSQL only the instance row is locked and re-read when the lock was waited for; the task's
    row may then be as it was before the other transaction decided it, so `complete_locked` trusts the
    locked state (is the task still ready?) and reads the task again only to say who decided it.
    """
    return store.lock_task(session, _lock_task_statement(actor, today), task_id)


@lru_cache(maxsize=256)
def _lock_task_statement(actor: Actor, today: date) -> Prebuilt:
    """The lock read for this actor today: built and compiled once, not per call (building and cache-keying
    the select cost more than sending it); a bulk decision reads every task with one."""
    return store.lock_task_statement(findable_by(actor, today))


def _refuse_if_done(human: HumanTask, row: WorkflowInstance) -> None:
    """:raises TaskAlreadyCompleted: the task is decided or withdrawn, or its instance no longer runs."""
    if human.status != HumanTaskStatus.OPEN:
        by = f" by {human.completed_by}" if human.completed_by else ""
        raise TaskAlreadyCompleted(f"task {human.id} ({human.element_id}) is already {human.status}{by}")
    if row.status != InstanceStatus.RUNNING:
        raise TaskAlreadyCompleted(f"instance {row.id} is {row.status}; task {human.id} can no longer be done")


def complete_locked(ctx: Context, session: Session, task_id: int, data: dict, actor: Actor,
                    strict: bool = False) -> WorkflowInstance:
    """Lock the task's instance and complete the task in the caller's transaction (see complete_task).

    :raises StaleDataError: the instance row changed under its lock (complete_task says ConcurrentUpdate).
    """
    if not isinstance(data, dict):
        raise InvalidInput("task data must be a JSON object")
    now = ctx.clock()
    found = _lock_task(session, task_id, actor, now.date())
    if found is None:  # out of the actor's scope is "not found", exactly like an unknown id
        raise NotFound(f"no task {task_id}")
    human, row, key = found
    on_behalf_of = check_may_complete(session, actor, human, row, now.date())  # lane, assignee, rules
    _refuse_if_done(human, row)
    values = validate_form(human.form, data, strict)
    check_variables(ctx, values, "task data")
    loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
    if human.spiff_task_id not in loaded.open_at_load:  # decided while this call waited for the lock
        session.refresh(human)
        _refuse_if_done(human, row)
        raise TaskAlreadyCompleted(f"task {task_id} ({human.element_id}) can no longer be done")

    def run_task() -> None:
        task = loaded.workflow.get_task_from_id(UUID(human.spiff_task_id))
        task.data.update(values)
        task.run()
        loaded.complete(human.id, human.spiff_task_id, actor.name, now)
        loaded.add_event("task_completed", now, human.element_id, actor.name,
                         {**values, "on_behalf_of": on_behalf_of} if on_behalf_of else values)

    advance(ctx, session, loaded, run_task, actor.name)
    if row.status != InstanceStatus.ERROR:  # the save wrote the completion; the loaded object says so too
        for name, value in (("status", HumanTaskStatus.COMPLETED), ("completed_at", now),
                            ("completed_by", actor.name)):
            set_committed_value(human, name, value)
        if on_behalf_of:
            human.on_behalf_of = on_behalf_of  # flushed with the commit (a stand-in's completion only)
    return row


def cancel_instance(ctx: Context, instance_id: int, actor: Actor = SYSTEM, reason: str = "") -> None:
    """Cancel a running instance: its open tasks are withdrawn and its timers removed.

    :raises NotFound: unknown instance, or one of a customer outside the actor's scope.
    :raises InvalidInput: the instance is not running.
    """
    with ctx.uow() as uow, conflicts():
        if uow.session.scalar(select(WorkflowInstance.id).where(
                WorkflowInstance.id == instance_id, actor_sees(actor, WorkflowInstance.customer_id))) is None:
            raise NotFound(f"no instance {instance_id}")
        cancel_locked(ctx, uow.session, instance_id, actor, reason)
        uow.commit()


def cancel_locked(ctx: Context, session: Session, instance_id: int, actor: Actor, reason: str) -> WorkflowInstance:
    """Lock and cancel an instance in the caller's transaction (see cancel_instance).

    :raises NotFound: unknown instance. :raises InvalidInput: the instance is not running.
    """
    row, key = lock_for_advance(session, instance_id)
    if row is None:
        raise NotFound(f"no instance {instance_id}")
    if row.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
        raise InvalidInput(f"instance {instance_id} is {row.status}, not running")
    loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
    variables = dict(row.data or {})
    loaded.workflow.cancel()
    loaded.add_event("instance_cancelled", ctx.clock(), actor=actor.name,
                     data={"reason": reason} if reason else None)
    # a cancelled workflow's own data is empty; the case keeps what it was about
    runtime.save(session, loaded, actor.name, {"status": InstanceStatus.CANCELLED, "ended_at": ctx.clock(),
                                               "data": variables})
    return row


@contextmanager
def conflicts() -> Iterator[None]:
    """A concurrent change of the same instance (its version counter) becomes ConcurrentUpdate."""
    try:
        yield
    except StaleDataError as err:
        raise ConcurrentUpdate("the instance was changed by someone else at the same time; try again") from err

