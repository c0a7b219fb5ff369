"""The case list: every process instance in the actor's scope, filtered, newest first, a keyset page at a time.

Only the instance row's narrow columns are read (never the serialized state), with the version number, the
customer's name and the task the case waits at beside them; each filter that narrows the list most has an
index in the list's order (migration 0023), so a page costs the same at any depth and any size of table.
Filters arrive as text (a URL's query, CLI arguments) and are parsed here: a bad value is an InvalidInput
naming the filter. `case_filter` is shared with the migration, which moves the cases a filter selects.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, union
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.isotime import iso, local_midnight
from engine.models import (
    Customer,
    HumanTask,
    HumanTaskStatus,
    InstanceStatus,
    Job,
    ProcessVersion,
    Registration,
    Timer,
    WorkflowInstance,
)
from engine.services.context import Actor, Context
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.staff_scope import actor_sees

NEWEST = Keyset("cases", (WorkflowInstance.created_at, WorkflowInstance.id), ("datetime", "int"), descending=True)
FILTERS = ("process", "version", "status", "case_status", "customer", "job", "started_from", "started_to",
           "overdue", "in_error", "waiting_at")
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class CaseFilter:
    """Parsed filters of the case list; None (or False) means "any"."""

    process: str | None = None
    version: int | None = None
    status: str | None = None
    case_status: str | None = None
    customer: int | None = None
    job: int | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None  # exclusive: the day after the given date, or the given moment
    overdue: bool = False
    in_error: bool = False
    waiting_at: str | None = None  # an element id: running cases with an open task or a waiting timer there


def parse_number(name: str, text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(f"{name}: {text!r} is not a number (an id, like 12)")
    return int(text)


def parse_moment(name: str, text: str, end: bool, zone: tzinfo = UTC) -> datetime:
    """A date (the whole day in the company's `zone`; `end`: up to its end) or an ISO date-time with a zone."""
    try:
        if len(text) == 10:
            return local_midnight(date.fromisoformat(text) + timedelta(days=1 if end else 0), zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a date (2026-12-01) or a date-time with a zone") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name}: {text!r} needs a time zone, e.g. {text}Z")
    return moment


def _flag(name: str, text: str) -> bool:
    if text.lower() in _YES:
        return True
    if text.lower() in _NO:
        return False
    raise InvalidInput(f"{name}: {text!r} is not yes or no")


def parse_filter(raw: dict[str, str] | None, zone: tzinfo = UTC) -> CaseFilter:
    """The filters of a request, parsed; empty values are "any"; dates are days in the company's `zone`.

    :raises InvalidInput: an unknown filter, or a value that does not fit its filter (naming it).
    """
    raw = {key: (value or "").strip() for key, value in (raw or {}).items()}
    unknown = sorted(set(raw) - set(FILTERS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a filter of the case list (filters: {', '.join(FILTERS)})")
    values: dict = {}
    for name in ("process", "case_status", "waiting_at"):
        if raw.get(name):
            if len(raw[name]) > 200:
                raise InvalidInput(f"{name}: longer than 200 characters")
            values[name] = raw[name]
    if raw.get("status"):
        if raw["status"] not in set(InstanceStatus):
            raise InvalidInput(f"status: {raw['status']!r} is not one of {', '.join(InstanceStatus)}")
        values["status"] = raw["status"]
    for name in ("version", "customer", "job"):
        if raw.get(name):
            values[name] = parse_number(name, raw[name])
    if "version" in values and "process" not in values:
        raise InvalidInput("version: needs a process (a version number is per process)")
    for name, end in (("started_from", False), ("started_to", True)):
        if raw.get(name):
            values[name] = parse_moment(name, raw[name], end, zone)
    if values.get("started_from") and values.get("started_to") and values["started_from"] >= values["started_to"]:
        raise InvalidInput("started_to: is before started_from")
    for name in ("overdue", "in_error"):
        values[name] = _flag(name, raw.get(name, ""))
    return CaseFilter(**values)


def _job_instances(job_id: int) -> Select:
    """The instances approving a job: the job's own approval, or one of its registrations' (timesheets)."""
    return union(select(Job.approval_instance_id).where(Job.id == job_id),
                 select(Registration.approval_instance_id).where(Registration.job_id == job_id))


def case_filter(actor: Actor, chosen: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE clauses on WorkflowInstance for the actor's scope and the chosen filters."""
    wi = WorkflowInstance
    clauses: list[ColumnElement[bool]] = [actor_sees(actor, wi.customer_id)]
    if chosen.process is not None:
        clauses.append(wi.process_id == chosen.process)
    if chosen.version is not None:
        clauses.append(wi.process_version_id.in_(select(ProcessVersion.id).where(
            ProcessVersion.process_id == chosen.process, ProcessVersion.version == chosen.version)))
    if chosen.status is not None:
        clauses.append(wi.status == chosen.status)
    if chosen.in_error:
        clauses.append(wi.status == InstanceStatus.ERROR)
    if chosen.case_status is not None:
        clauses.append(wi.case_status == chosen.case_status)
    if chosen.customer is not None:
        clauses.append(wi.customer_id == chosen.customer)
    if chosen.job is not None:
        clauses.append(wi.id.in_(_job_instances(chosen.job)))
    if chosen.started_from is not None:
        clauses.append(wi.created_at >= chosen.started_from)
    if chosen.started_to is not None:
        clauses.append(wi.created_at < chosen.started_to)
    if chosen.overdue:
        clauses.append(exists().where(HumanTask.instance_id == wi.id, HumanTask.status == HumanTaskStatus.OPEN,
                                      HumanTask.due_at < now))
    if chosen.waiting_at is not None:
        clauses.append(_waits_at(chosen.waiting_at))
    return clauses


def _waits_at(element_id: str) -> ColumnElement[bool]:
    """A running case with an open task or a waiting timer at the element (what the process monitor counts)."""
    wi = WorkflowInstance
    return and_(wi.status == InstanceStatus.RUNNING, or_(
        exists().where(HumanTask.instance_id == wi.id, HumanTask.status == HumanTaskStatus.OPEN,
                       HumanTask.element_id == element_id),
        exists().where(Timer.instance_id == wi.id, Timer.element_id == element_id)))


def _waiting_at() -> ColumnElement:
    """The name of the first open task of the case (one index lookup per row of the page)."""
    return (select(HumanTask.name).where(HumanTask.instance_id == WorkflowInstance.id,
                                         HumanTask.status == HumanTaskStatus.OPEN)
            .order_by(HumanTask.id).limit(1).correlate(WorkflowInstance).scalar_subquery())


def case_list_query(actor: Actor, chosen: CaseFilter, now: datetime) -> Select:
    """The list's SELECT, filtered and scoped, not yet ordered or paged (EXPLAIN reads it in the tests)."""
    wi = WorkflowInstance
    return (select(wi.id, wi.process_id, ProcessVersion.version, wi.status, wi.case_status, wi.customer_id,
                   Customer.name.label("customer_name"), wi.created_at, wi.updated_at, wi.ended_at,
                   wi.error_element, wi.error_message, _waiting_at().label("waiting_at"),
                   wi.data["title"].as_string().label("title"))
            .join(ProcessVersion, ProcessVersion.id == wi.process_version_id)
            .outerjoin(Customer, Customer.id == wi.customer_id)
            .where(and_(*case_filter(actor, chosen, now))))


def _view(row) -> dict:
    return {"id": row.id, "process_id": row.process_id, "version": row.version, "status": row.status,
            "case_status": row.case_status, "customer_id": row.customer_id, "customer_name": row.customer_name,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at), "ended_at": iso(row.ended_at),
            "waiting_at": row.waiting_at, "title": (row.title or "")[:200], "error_element": row.error_element,
            "error": (row.error_message or "")[:200] or None}


def read_page(session: Session, actor: Actor, chosen: CaseFilter, now: datetime, cursor: str = "",
              size: int = PAGE_SIZE) -> Page:
    """One page of the list in the caller's session (see list_cases)."""
    filters = {key: value for key, value in asdict(chosen).items() if value not in (None, False)}
    rows, after, before = fetch_page(session, case_list_query(actor, chosen, now), NEWEST, filters, cursor,
                                     lambda row: (row.created_at, row.id), size)
    return Page([_view(row) for row in rows], after, before)


def list_cases(ctx: Context, actor: Actor, filters: dict[str, str] | None = None, cursor: str = "",
               size: int = PAGE_SIZE) -> Page:
    """One page of the cases in the actor's scope matching `filters` (see FILTERS), newest first.

    :raises InvalidInput: a bad filter value (naming the filter), or a cursor of another list or filter.
    """
    chosen = parse_filter(filters, ctx.settings.zone)
    with ctx.read() as uow:
        return read_page(uow.session, actor, chosen, ctx.clock(), cursor, size)
