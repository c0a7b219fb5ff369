"""Where a process version's cases are and where time goes: per element, ready for a diagram overlay.

Waiting now: the open human_task rows and the waiting timers of the version's running cases, per element.
Time spent at a user task: from its human_task row's created_at (the task became ready) to completed_at (someone
decided it). Those rows were chosen over pairing instance_event's task_ready and task_completed events because
each row already holds both ends of one occurrence of one task (a query loop makes several, each counted), and
withdrawn tasks (a timer ended the review) are told apart by their status, so no pairing of events per case in
order is needed. Decided tasks only: a task still open is in "waiting now" with its age.

Median and 90th percentile: percentile_cont in SQL on PostgreSQL; SQLite has no percentile function, so there
the durations of at most SQLITE_SAMPLE of the latest decided tasks per element are read and interpolated the
same way (linear, as percentile_cont) in Python. Each user task gets a band by its 90th percentile: "fast"
under `fast_below`, "stuck" from `stuck_from` on, "slow" between (or "" with no decided task yet).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, Select, and_, distinct, extract, func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.models import HumanTask, HumanTaskStatus, InstanceStatus, ProcessVersion, Timer, WorkflowInstance
from engine.services.case_list import parse_moment, parse_number
from engine.services.context import SYSTEM, Actor, Context
from engine.services.element_names import element_kinds, element_names
from engine.services.staff_scope import actor_sees

SQLITE_SAMPLE = 2000
FAST_BELOW = timedelta(days=1)
STUCK_FROM = timedelta(days=5)


@dataclass(frozen=True)
class ElementStats:
    """What a diagram shows on one element."""

    element_id: str
    name: str
    waiting: int = 0  # open tasks at this element now
    timers: int = 0  # cases whose timer at this element is waiting
    decided: int = 0  # tasks decided here (in the period)
    median_seconds: float | None = None
    p90_seconds: float | None = None
    band: str = ""
    user_task: bool = False  # the element is a user task (the times and the band are about those)


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def band(p90: float | None, fast_below: timedelta, stuck_from: timedelta) -> str:
    if p90 is None:
        return ""
    if p90 < fast_below.total_seconds():
        return "fast"
    return "stuck" if p90 >= stuck_from.total_seconds() else "slow"


def _cases(actor: Actor, version_id: int, customer: int | None) -> list[ColumnElement[bool]]:
    clauses = [WorkflowInstance.process_version_id == version_id, actor_sees(actor, WorkflowInstance.customer_id)]
    if customer is not None:
        clauses.append(WorkflowInstance.customer_id == customer)
    return clauses


def _waiting(session: Session, cases: list) -> tuple[dict[str, int], dict[str, int]]:
    running = and_(*cases, WorkflowInstance.status == InstanceStatus.RUNNING)
    tasks = session.execute(select(HumanTask.element_id, func.count()).join(
        WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
        .where(running, HumanTask.status == HumanTaskStatus.OPEN).group_by(HumanTask.element_id)).all()
    timers = session.execute(select(Timer.element_id, func.count(distinct(Timer.instance_id))).join(
        WorkflowInstance, WorkflowInstance.id == Timer.instance_id).where(running).group_by(Timer.element_id)).all()
    return dict(tasks), dict(timers)


def _decided(cases: list, period: tuple[datetime | None, datetime | None]) -> Select:
    query = (select(HumanTask.element_id).join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
             .where(and_(*cases), HumanTask.status == HumanTaskStatus.COMPLETED, HumanTask.completed_at.is_not(None)))
    if period[0] is not None:
        query = query.where(HumanTask.completed_at >= period[0])
    if period[1] is not None:
        query = query.where(HumanTask.completed_at < period[1])
    return query


def _times_postgres(session: Session, decided: Select) -> dict[str, tuple[int, float, float]]:
    seconds = extract("epoch", HumanTask.completed_at - HumanTask.created_at)
    query = decided.add_columns(func.count(), func.percentile_cont(0.5).within_group(seconds),
                                func.percentile_cont(0.9).within_group(seconds)).group_by(HumanTask.element_id)
    return {element: (n, median, p90) for element, n, median, p90 in session.execute(query)}


def _times_sqlite(session: Session, decided: Select) -> dict[str, tuple[int, float, float]]:
    counts = dict(session.execute(decided.add_columns(func.count()).group_by(HumanTask.element_id)).all())
    result = {}
    for element, n in counts.items():
        rows = session.execute(decided.add_columns(HumanTask.created_at, HumanTask.completed_at)
                               .where(HumanTask.element_id == element)
                               .order_by(HumanTask.completed_at.desc()).limit(SQLITE_SAMPLE)).all()
        spans = [(done - made).total_seconds() for _, made, done in rows]
        result[element] = (n, percentile(spans, 0.5), percentile(spans, 0.9))
    return result


def _parse(period_from: str, period_to: str, customer: str, zone: tzinfo) -> tuple[tuple, int | None]:
    start = parse_moment("from", period_from, False, zone) if period_from else None
    end = parse_moment("to", period_to, True, zone) if period_to else None
    if start and end and start >= end:
        raise InvalidInput("to: is before from")
    return (start, end), parse_number("customer", customer) if customer else None


def get_process_stats(ctx: Context, process_id: str, version: int, actor: Actor = SYSTEM, period_from: str = "",
                      period_to: str = "", customer: str = "", fast_below: timedelta = FAST_BELOW,
                      stuck_from: timedelta = STUCK_FROM) -> dict[str, ElementStats]:
    """Per element id of the version, the cases waiting there now and, for user tasks, the median and 90th
    percentile time spent there with its band (decided in the period `period_from`..`period_to`, dates or
    zoned date-times, and of one customer, when given), over the cases in the actor's scope.

    :raises NotFound: no such version. :raises InvalidInput: a bad period or customer (naming it).
    """
    period, customer_id = _parse(period_from.strip(), period_to.strip(), customer.strip(), ctx.settings.zone)
    with ctx.read() as uow:
        session = uow.session
        version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id,
                                                                    ProcessVersion.version == version))
        if version_id is None:
            raise NotFound(f"no version {version} of process {process_id!r}")
        names, kinds = element_names(session, version_id), element_kinds(session, version_id)
        cases = _cases(actor, version_id, customer_id)
        waiting, timers = _waiting(session, cases)
        decided = _decided(cases, period)
        times = _times_postgres(session, decided) if ctx.is_postgres else _times_sqlite(session, decided)
    stats = {}
    for element_id, name in names.items():
        n, median, p90 = times.get(element_id, (0, None, None))
        is_task = kinds.get(element_id) == "UserTask" or element_id in times
        stats[element_id] = ElementStats(
            element_id, name, waiting.get(element_id, 0), timers.get(element_id, 0), n,
            round(median, 1) if median is not None else None, round(p90, 1) if p90 is not None else None,
            band(p90, fast_below, stuck_from) if is_task else "", is_task)
    return stats
