"""The statements a save sends: built once at import, compiled once per dialect and sent to the driver's cursor
(engine.db.Prebuilt: no ORM flush, no per-call cache key or execution context), set-based.

Each table an advance changes is written by at most one statement: the instance row (version-checked),
human_task (completions and withdrawals together), timer (delete, insert), job and registration (the net
case status of the transaction), outbox_message, instance_event (an executemany each).
"""

from collections.abc import Callable

from sqlalchemy import JSON, ColumnElement, Integer, bindparam, case, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.db import Prebuilt, as_loaded
from engine.models import (
    ApprovalStatus,
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    Job,
    OutboxMessage,
    OutboxStatus,
    ProcessVersion,
    Registration,
    Timer,
    WorkflowInstance,
)
from engine.service_tasks.case_writes import CaseWrites

_INSTANCE = WorkflowInstance.__table__
_HUMAN = HumanTask.__table__
_TIMER = Timer.__table__
_EVENT = InstanceEvent.__table__
_OUTBOX = OutboxMessage.__table__
_JOB = Job.__table__
_REGISTRATION = Registration.__table__

# the columns an advance may change on the instance row, written together
INSTANCE_COLUMNS = ("state", "serializer_version", "data", "case_status", "status", "updated_at", "ended_at",
                    "error_message", "error_element")

_UPDATE_INSTANCE = Prebuilt(
    _INSTANCE.update()
    .where(_INSTANCE.c.id == bindparam("b_id"), _INSTANCE.c.lock_version == bindparam("b_version"))
    .values({**{name: bindparam(f"v_{name}") for name in INSTANCE_COLUMNS}, "lock_version": bindparam("b_next")})
)

_INSERT_INSTANCE = Prebuilt(_INSTANCE.insert().returning(_INSTANCE.c.id))  # SQLite has RETURNING since 3.35
NEW_INSTANCE_COLUMNS = ("process_version_id", "process_id", "case_type", "customer_id", "created_at",
                        "started_by_staff_id")

# the version's spec key next to the locked row: a scalar subquery is not locked by FOR UPDATE
SPEC_KEY = (select(ProcessVersion.bpmn_hash).where(ProcessVersion.id == WorkflowInstance.process_version_id)
            .scalar_subquery().label("bpmn_hash"))

# the reads that lock an instance row: each mapped attribute's column, then the spec key (see _loaded)
_TASK_ATTRS = [(prop.key, prop.columns[0]) for prop in HumanTask.__mapper__.column_attrs]
_INSTANCE_ATTRS = [(prop.key, prop.columns[0]) for prop in WorkflowInstance.__mapper__.column_attrs]
_LATEST_VERSION = Prebuilt(select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.bpmn_hash)
                           .where(ProcessVersion.process_id == bindparam("b_process"))
                           .order_by(ProcessVersion.version.desc()).limit(1))
_LOCK_INSTANCE = {skip: Prebuilt(select(*(column for _, column in _INSTANCE_ATTRS), SPEC_KEY)
                                 .where(WorkflowInstance.id == bindparam("b_id"))
                                 .with_for_update(of=WorkflowInstance, skip_locked=skip))
                  for skip in (False, True)}

_CLOSE_HUMAN_TASK = Prebuilt(
    _HUMAN.update()
    .where(_HUMAN.c.instance_id == bindparam("b_instance"), _HUMAN.c.spiff_task_id == bindparam("b_task"),
           _HUMAN.c.status == HumanTaskStatus.OPEN)
    .values(status=bindparam("status"), completed_at=bindparam("at"), completed_by=bindparam("actor"))
)
_INSERT_HUMAN_TASKS = Prebuilt(_HUMAN.insert())
_DELETE_TIMER = Prebuilt(_TIMER.delete().where(_TIMER.c.instance_id == bindparam("b_instance"),
                                               _TIMER.c.spiff_task_id == bindparam("b_task")))
_INSERT_TIMERS = Prebuilt(_TIMER.insert())
# None is SQL NULL here (as the ORM wrote it), not JSON null
_INSERT_EVENTS = Prebuilt(_EVENT.insert().values(
    instance_id=bindparam("instance_id"), at=bindparam("at"), kind=bindparam("kind"),
    element_id=bindparam("element_id"), actor=bindparam("actor"),
    data=bindparam("data", type_=JSON(none_as_null=True))))
_INSERT_MAILS = Prebuilt(_OUTBOX.insert().values(
    instance_id=bindparam("instance_id"), template=bindparam("template"), audience=bindparam("audience"),
    recipient=bindparam("recipient"), context=bindparam("context"), created_at=bindparam("created_at"),
    status=OutboxStatus.PENDING))
_SET_JOB_STATUS = Prebuilt(_JOB.update().where(_JOB.c.approval_instance_id == bindparam("b_instance")).values(
    approval_status=bindparam("status")))


def _registration_update(final: bool, with_comment: bool):
    """One UPDATE with the net effect of `case.set_status` on the linked registrations."""
    decision = _REGISTRATION.c.customer_decision
    status = bindparam("status")
    if final:  # a registration the contact decided on its own keeps that verdict
        status = case((decision == "approve", literal_column(f"'{ApprovalStatus.APPROVED}'")),
                      (decision == "reject", literal_column(f"'{ApprovalStatus.REJECTED}'")), else_=status)
    values = {"status": status, "updated_at": bindparam("at")}
    if with_comment:
        values["customer_comment"] = case((decision.is_(None), bindparam("comment")),
                                          else_=_REGISTRATION.c.customer_comment)
    return Prebuilt(_REGISTRATION.update().where(
        _REGISTRATION.c.approval_instance_id == bindparam("b_instance")).values(values))


_SET_REGISTRATION_STATUS = {(final, comment): _registration_update(final, comment)
                            for final in (False, True) for comment in (False, True)}


def latest_version(session: Session, process_id: str) -> tuple[int, int, str] | None:
    """(id, version, bpmn_hash) of the process's newest deployed version, or None."""
    return _LATEST_VERSION.first(_flushed(session), {"b_process": process_id})


def lock_task_statement(where: ColumnElement[bool]) -> Prebuilt:
    """The read of a human task (with `where`, e.g. the actor's scope) and its instance row, locked (FOR UPDATE
    on PostgreSQL), with the version's spec key: for `lock_task` (build once, use many times)."""
    columns = [column for _, column in (*_TASK_ATTRS, *_INSTANCE_ATTRS)]
    return Prebuilt(select(*columns, SPEC_KEY).join_from(HumanTask, WorkflowInstance,
                                                         WorkflowInstance.id == HumanTask.instance_id)
                    .where(HumanTask.id == bindparam("b_task", type_=Integer, required=False), where)
                    .with_for_update(of=WorkflowInstance))


def lock_task(session: Session, statement: Prebuilt,
              task_id: int) -> tuple[HumanTask, WorkflowInstance, str] | None:
    """The task and its locked instance row as loaded objects (see as_loaded), with the spec key; or None."""
    found = statement.first(_flushed(session), {"b_task": task_id})
    if found is None:
        return None
    split = len(_TASK_ATTRS)
    return (_loaded(session, HumanTask, _TASK_ATTRS, found[:split]),
            _loaded(session, WorkflowInstance, _INSTANCE_ATTRS, found[split:-1]), found[-1])


def lock_for_advance(session: Session, instance_id: int,
                  skip_locked: bool = False) -> tuple[WorkflowInstance, str] | tuple[None, None]:
    """The instance row, locked, as a loaded object with its version's spec key; or (None, None)."""
    found = _LOCK_INSTANCE[skip_locked].first(_flushed(session), {"b_id": instance_id})
    if found is None:
        return None, None
    return _loaded(session, WorkflowInstance, _INSTANCE_ATTRS, found[:-1]), found[-1]


def _flushed(session: Session) -> Connection:
    """The session's connection, after the autoflush a query through the session would have done."""
    if session.autoflush:
        session.flush()
    return session.connection()


def _loaded(session: Session, cls: type, attrs: list, values) -> object:
    return as_loaded(session, cls, {key: value for (key, _), value in zip(attrs, values, strict=True)})


def insert_instance(conn: Connection, values: dict) -> int:
    """Insert a new instance row (at version 1); returns its id."""
    return _INSERT_INSTANCE.first(conn, {**values, "lock_version": 1})[0]


def update_instance(conn: Connection, instance_id: int, version: int, values: dict) -> Callable[[], None]:
    """Write the instance row if it is still at `version` (bumping it); returns the check, to call once the
    statement's result is in (after a `pipelined` block).

    The check raises StaleDataError: someone else changed the row since it was read (the transaction
    must then roll back, with whatever else the block sent).
    """
    params = {f"v_{name}": value for name, value in values.items()}
    cursor = _UPDATE_INSTANCE.execute(conn, params | {"b_id": instance_id, "b_version": version,
                                                      "b_next": version + 1})

    def check() -> None:
        if cursor.rowcount != 1:
            raise StaleDataError(f"workflow_instance {instance_id} is no longer at version {version}")
    return check


def close_human_tasks(conn: Connection, rows: list[dict]) -> None:
    """Complete the decided task and withdraw the open ones no longer ready (an executemany).

    Each row: b_instance, b_task (spiff task id), status, at, actor.
    """
    _CLOSE_HUMAN_TASK.execute(conn, rows)


def insert_human_tasks(conn: Connection, rows: list[dict]) -> None:
    _INSERT_HUMAN_TASKS.execute(conn, rows)


def replace_timers(conn: Connection, instance_id: int, gone: list[str], new: list[dict]) -> None:
    if gone:
        _DELETE_TIMER.execute(conn, [{"b_instance": instance_id, "b_task": spiff_id} for spiff_id in gone])
    if new:
        _INSERT_TIMERS.execute(conn, new)


def apply_case_writes(conn: Connection, instance_id: int, writes: CaseWrites) -> None:
    """The handlers' record: the job's and registrations' status (one statement each), then the mails."""
    if writes.status is not None:
        status = writes.status
        _SET_JOB_STATUS.execute(conn, {"b_instance": instance_id, "status": status.status})
        statement = _SET_REGISTRATION_STATUS[(status.final, writes.comment is not None)]
        params = {"b_instance": instance_id, "status": status.registration_status, "at": status.at}
        if writes.comment is not None:
            params["comment"] = writes.comment
        statement.execute(conn, params)
    if writes.mails:
        _INSERT_MAILS.execute(conn, [{**mail, "instance_id": instance_id,
                                      "context": {**mail["context"], "instance_id": instance_id}}
                                     for mail in writes.mails])


def insert_events(conn: Connection, events: list[dict]) -> None:
    _INSERT_EVENTS.execute(conn, events)
