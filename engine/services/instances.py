"""Starting, advancing and cancelling process instances (each call one transaction)."""

from collections.abc import Callable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConcurrentUpdate, InvalidInput, NotFound, TaskAlreadyCompleted
from engine.models import (
    HumanTaskStatus,
    InstanceEvent,
    InstanceStatus,
    ProcessVersion,
    WorkflowInstance,
)
from engine.services.context import SYSTEM, Actor, Context
from engine.services.staff_scope import actor_sees, get_actor_task
from engine.workflow import runtime
from engine.workflow.data_limits import variable_problem
from engine.workflow.forms import validate_form

ERROR_MESSAGE_CHARS = 1000


def lock_instance(session: Session, instance_id: int, skip_locked: bool = False) -> WorkflowInstance | None:
    """Load the instance row under a row lock (FOR UPDATE on PostgreSQL; SQLite serializes writers)."""
    query = select(WorkflowInstance).where(WorkflowInstance.id == instance_id)
    query = query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return session.scalar(query)


def advance(ctx: Context, session: Session, loaded: runtime.LoadedInstance, act: Callable[[], None],
            actor: str | None) -> None:
    """Run `act`, then engine steps (on the step budget), check the data, save — or keep the last good state.

    Whatever running the model raises is the instance's fault: a script or service task, a timer below
    the floor, the step budget, data over the limits, its serialization (a RecursionError). Then the
    savepoint is rolled back and the instance goes to `error` with the message and element id; the
    caller's transaction still commits that. Database errors are not the model's: they propagate, so the
    whole transaction rolls back; KeyboardInterrupt and SystemExit propagate too (a script's own
    SystemExit arrives here as an ordinary error, see RuntimeScriptEngine).
    """
    savepoint = session.begin_nested()
    try:
        act()
        runtime.run_engine_steps(loaded)
        runtime.check_data(loaded)
        runtime.save(session, loaded, actor)
        savepoint.commit()
    except (SQLAlchemyError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 - see the docstring: the model's fault, whatever it is
        savepoint.rollback()
        mark_error(ctx, session, loaded.row, runtime.failing_element(loaded, err), describe(err))


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
                    actor: Actor) -> tuple[WorkflowInstance, Callable[[], None]]:
    """Insert a new instance row (flushed, so it has its id) and return it with the call that runs its first steps.

    Split in two so a use case can link its own rows to the instance (a job, registrations) before the
    first service tasks run and look for them, all in the caller's transaction.

    :raises NotFound: when no version of the process is deployed.
    :raises InvalidInput: when `data` is not a JSON object, or a variable is over the size or depth limit.
    """
    if not isinstance(data, dict):
        raise InvalidInput("start data must be a JSON object")
    check_variables(ctx, data, "start data")
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(f"no process {process_id!r} is deployed (signoff deploy FILE)")
    now = ctx.clock()
    customer_id = data.get("customer_id")
    row = WorkflowInstance(process_version_id=version.id, process_id=process_id, status=InstanceStatus.RUNNING,
                           customer_id=customer_id if isinstance(customer_id, int) else None,
                           data=data, created_at=now, updated_at=now)
    # the row starts with the seeded, not yet run, state: the last good state if the first steps fail
    loaded = runtime.new_workflow(session, row, runtime.process_for(session, version.id), ctx.clock,
                                  ctx.settings, data)
    session.add(row)
    session.flush()
    session.add(InstanceEvent(instance_id=row.id, at=now, kind="instance_started", actor=actor.name,
                              data={"version": version.version}))
    return row, lambda: advance(ctx, session, loaded, lambda: None, actor.name)


def complete_task(ctx: Context, task_id: int, data: dict, actor: Actor = SYSTEM) -> WorkflowInstance:
    """Complete an open human task with form data; exactly one of two concurrent callers wins.

    :raises NotFound: unknown task id, or a task of a case outside the actor's customers.
    :raises TaskAlreadyCompleted: someone decided it first, or a timer or cancel withdrew it.
    :raises NotAllowed: the actor's role does not match the task's lane.
    :raises InvalidInput: the data does not fit the task's form; nothing is saved.
    """
    with ctx.uow() as uow:
        row = complete_locked(ctx, uow.session, task_id, data, actor)
        commit_or_conflict(uow)
        return row


def complete_locked(ctx: Context, session: Session, task_id: int, data: dict, actor: Actor) -> WorkflowInstance:
    """Lock the task's instance and complete the task in the caller's transaction (see complete_task)."""
    if not isinstance(data, dict):
        raise InvalidInput("task data must be a JSON object")
    human = get_actor_task(session, actor, task_id)  # out of the actor's scope is NotFound; another lane NotAllowed
    row = lock_instance(session, human.instance_id)
    session.refresh(human)
    if human.status != HumanTaskStatus.OPEN:
        by = f" by {human.completed_by}" if human.completed_by else ""
        raise TaskAlreadyCompleted(f"task {task_id} ({human.element_id}) is already {human.status}{by}")
    if row.status != InstanceStatus.RUNNING:
        raise TaskAlreadyCompleted(f"instance {row.id} is {row.status}; task {task_id} can no longer be done")
    values = validate_form(human.form, data)
    check_variables(ctx, values, "task data")
    loaded = runtime.load(session, row, ctx.clock, ctx.settings)
    now = ctx.clock()

    def run_task() -> None:
        task = loaded.workflow.get_task_from_id(UUID(human.spiff_task_id))
        task.data.update(values)
        task.run()
        human.status = HumanTaskStatus.COMPLETED
        human.completed_at = now
        human.completed_by = actor.name
        loaded.add_event("task_completed", now, human.element_id, actor.name, values)

    advance(ctx, session, loaded, run_task, actor.name)
    return row


def cancel_instance(ctx: Context, instance_id: int, actor: Actor = SYSTEM, reason: str = "") -> None:
    """Cancel a running instance: its open tasks are withdrawn and its timers removed.

    :raises NotFound: unknown instance, or one of a customer outside the actor's scope.
    :raises InvalidInput: the instance is not running.
    """
    with ctx.uow() as uow:
        if uow.session.scalar(select(WorkflowInstance.id).where(
                WorkflowInstance.id == instance_id, actor_sees(actor, WorkflowInstance.customer_id))) is None:
            raise NotFound(f"no instance {instance_id}")
        cancel_locked(ctx, uow.session, instance_id, actor, reason)
        commit_or_conflict(uow)


def cancel_locked(ctx: Context, session: Session, instance_id: int, actor: Actor, reason: str) -> WorkflowInstance:
    """Lock and cancel an instance in the caller's transaction (see cancel_instance).

    :raises NotFound: unknown instance. :raises InvalidInput: the instance is not running.
    """
    row = lock_instance(session, instance_id)
    if row is None:
        raise NotFound(f"no instance {instance_id}")
    if row.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
        raise InvalidInput(f"instance {instance_id} is {row.status}, not running")
    loaded = runtime.load(session, row, ctx.clock, ctx.settings)
    variables = dict(row.data or {})
    loaded.workflow.cancel()
    row.status = InstanceStatus.CANCELLED
    row.ended_at = ctx.clock()
    loaded.add_event("instance_cancelled", ctx.clock(), actor=actor.name,
                     data={"reason": reason} if reason else None)
    runtime.save(session, loaded, actor.name)
    row.data = variables  # a cancelled workflow's own data is empty; the case keeps what it was about
    return row


def commit_or_conflict(uow) -> None:
    """Commit; a concurrent change of the same instance (its version counter) becomes ConcurrentUpdate."""
    try:
        uow.commit()
    except StaleDataError as err:
        raise ConcurrentUpdate("the instance was changed by someone else at the same time; try again") from err
