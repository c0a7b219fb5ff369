"""Read side of the customer portal: home, review tasks with their evidence, project views and visits.

Every function first checks that the contact acts for `customer_id`, then that each id it is given belongs to
that customer; anything else is NotFound, so a contact never learns that another customer's data exists.
What a contact sees is limited by the company settings and the customer's own "show hours overview" flag.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import (
    ApprovalStatus,
    Customer,
    HumanTask,
    HumanTaskStatus,
    InstanceStatus,
    Job,
    Registration,
    StaffUser,
    Visit,
    VisitPhoto,
    WorkflowInstance,
)
from engine.services.company_settings import load_settings
from engine.services.context import Actor, Context
from engine.services.inbox import urgency
from engine.services.work_fields import duration_text, money_text

# registration kind -> the portal section that shows it
KIND_SECTIONS = {"hours": "hours", "expense": "expenses", "mileage": "mileage"}
DECIDABLE = (ApprovalStatus.SUBMITTED, ApprovalStatus.QUERIED)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds() // 60) if start and end else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def portal_scope(session: Session, actor: Actor, customer_id: int) -> tuple[Customer, dict[str, bool]]:
    """The contact's customer and which portal sections it may see.

    :raises NotFound: the actor does not act for the customer, or it is unknown, archived or without portal access.
    """
    if customer_id not in actor.customer_ids:
        raise NotFound(f"no customer {customer_id}")
    customer = session.get(Customer, customer_id)
    if customer is None or customer.archived or not customer.portal_access:
        raise NotFound(f"no customer {customer_id}")
    settings = load_settings(session)
    sections = {
        "hours": settings.portal_shows_hours, "expenses": settings.portal_shows_expenses,
        "mileage": settings.portal_shows_mileage,
        "visits": bool(settings.portal_shows_visits and customer.show_hours_overview),
        "invoices": settings.portal_shows_invoices, "quotes": settings.portal_shows_quotes,
    }
    return customer, sections


def require_section(sections: dict[str, bool], name: str) -> None:
    """:raises NotFound: the section is hidden from contacts (or unknown)."""
    if not sections.get(name):
        raise NotFound("not shown in the portal")


def _visible_kinds(sections: dict[str, bool]) -> list[str]:
    return [kind for kind, section in KIND_SECTIONS.items() if sections[section]]


def _open_reviews(customer_id: int):
    """Instance ids with an open customer review of `customer_id` while the instance runs (a subquery)."""
    return (select(HumanTask.instance_id).join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
            .where(HumanTask.status == HumanTaskStatus.OPEN, HumanTask.role == "customer",
                   HumanTask.customer_id == customer_id, WorkflowInstance.status == InstanceStatus.RUNNING))


def portal_home(ctx: Context, actor: Actor, customer_id: int) -> dict:
    """The portal's start page: the customer, its jobs with work counted by status, open reviews and sections.

    :raises NotFound: a customer the actor does not act for.
    """
    with ctx.uow() as uow:
        session = uow.session
        customer, sections = portal_scope(session, actor, customer_id)
        jobs = list(session.scalars(select(Job).where(Job.customer_id == customer_id)
                                    .order_by(Job.period_start.desc(), Job.id.desc())))
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        rows = session.execute(select(Registration.job_id, Registration.status, func.count(Registration.id))
                               .join(Job, Job.id == Registration.job_id)
                               .where(Job.customer_id == customer_id, Registration.kind.in_(_visible_kinds(sections)))
                               .group_by(Registration.job_id, Registration.status))
        for job_id, status, count in rows:
            counts[job_id][status] = count
        tasks = _review_tasks(session, customer_id, ctx.clock())
    return {
        "customer": {"id": customer.id, "name": customer.name},
        "jobs": [{"id": job.id, "name": job.name, "period_start": _iso(job.period_start),
                  "period_end": _iso(job.period_end), "approval_status": job.approval_status,
                  "counts": counts.get(job.id, {})} for job in jobs],
        "open_tasks": tasks, "sections": sections,
    }


def _review_tasks(session: Session, customer_id: int, now: datetime) -> list[dict]:
    query = (select(HumanTask, WorkflowInstance.process_id, WorkflowInstance.data)
             .join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
             .where(HumanTask.status == HumanTaskStatus.OPEN, HumanTask.role == "customer",
                    HumanTask.customer_id == customer_id, WorkflowInstance.status == InstanceStatus.RUNNING)
             .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id))
    return [{"id": task.id, "name": task.name, "element_id": task.element_id, "instance_id": task.instance_id,
             "title": (data or {}).get("title") or task.name, "kind": "Job" if process == "job_approval" else "Hours",
             "due_at": _iso(task.due_at), "urgency": urgency(task.due_at, now), "form": task.form}
            for task, process, data in session.execute(query)]


def list_review_tasks(ctx: Context, actor: Actor, customer_id: int) -> list[dict]:
    """The customer's open reviews, soonest deadline first, each with the work under review as "evidence"
    (registrations of the kinds the portal shows; hours with the same employee's visits that day).

    :raises NotFound: a customer the actor does not act for.
    """
    with ctx.uow() as uow:
        session = uow.session
        _, sections = portal_scope(session, actor, customer_id)
        tasks = _review_tasks(session, customer_id, ctx.clock())
        evidence = _evidence(session, customer_id, [t["instance_id"] for t in tasks], sections)
    return [{**task, "evidence": evidence.get(task["instance_id"], [])} for task in tasks]


def get_review_task(ctx: Context, actor: Actor, customer_id: int, task_id: int) -> dict:
    """One open review of the customer with its evidence (for the task page).

    :raises NotFound: another customer's task, or a task that is not open for review.
    """
    for task in list_review_tasks(ctx, actor, customer_id):
        if task["id"] == task_id:
            return task
    raise NotFound(f"no task {task_id}")


def _registration_view(row: Registration, employee_name: str) -> dict:
    return {
        "id": row.id, "job_id": row.job_id, "kind": row.kind, "date": _iso(row.work_date),
        "employee_id": row.employee_id, "employee_name": employee_name, "start_time": _iso(row.start_time),
        "end_time": _iso(row.end_time), "minutes": row.minutes, "duration": duration_text(row.minutes),
        "amount_cents": row.amount_cents, "amount": money_text(row.amount_cents), "km": row.distance_km,
        "from_place": row.from_place, "to_place": row.to_place, "description": row.description,
        "status": row.status, "customer_decision": row.customer_decision, "customer_comment": row.customer_comment,
        "has_receipt": bool(row.receipt_file), "approval_instance_id": row.approval_instance_id,
    }


def _evidence(session: Session, customer_id: int, instance_ids: list[int], sections: dict) -> dict[int, list]:
    """Per instance: its linked registrations (visible kinds); hours with that employee's visits of the day
    (only when the portal shows visits, so every photo id listed can be opened)."""
    if not instance_ids:
        return {}
    rows = session.execute(select(Registration, StaffUser.name)
                           .join(StaffUser, StaffUser.id == Registration.employee_id)
                           .where(Registration.approval_instance_id.in_(instance_ids),
                                  Registration.kind.in_(_visible_kinds(sections)))
                           .order_by(Registration.work_date, Registration.start_time, Registration.id)).all()
    hours = [(row.employee_id, row.work_date) for row, _ in rows if row.kind == "hours"]
    visits = _visits_by_day(session, customer_id, hours) if hours and sections["visits"] else {}
    result: dict[int, list] = defaultdict(list)
    for row, name in rows:
        view = _registration_view(row, name)
        if row.kind == "hours":
            view["visits"] = visits.get((row.employee_id, row.work_date), [])
        result[row.approval_instance_id].append(view)
    return result


def _visits_by_day(session: Session, customer_id: int, keys: list[tuple[int, date]]) -> dict[tuple, list]:
    first, last = min(day for _, day in keys), max(day for _, day in keys)
    views = _visit_views(session, customer_id, first, last, None, {e for e, _ in keys})
    by_day: dict[tuple, list] = defaultdict(list)
    for view in views:
        by_day[(view["employee_id"], date.fromisoformat(view["date"]))].append(view)
    return by_day


def visit_period(date_from: date | None, date_to: date | None) -> ColumnElement[bool]:
    """A visit's day is the day of its check-in, else of its planned start (UTC); either bound may be open."""
    def within(column) -> ColumnElement[bool]:
        bounds = [column.is_not(None)]
        if date_from is not None:
            bounds.append(column >= _midnight(date_from))
        if date_to is not None:
            bounds.append(column < _midnight(date_to + timedelta(days=1)))
        return and_(*bounds)
    return or_(within(Visit.checked_in_at), and_(Visit.checked_in_at.is_(None), within(Visit.planned_start)))


def _visit_views(session: Session, customer_id: int, date_from: date, date_to: date, employee_id: int | None,
                 employee_ids: set[int] | None = None) -> list[dict]:
    """Visits whose check-in (else planned start) falls in the days, sorted by that time, with their photos."""
    query = (select(Visit, StaffUser.name).join(StaffUser, StaffUser.id == Visit.employee_id)
             .where(Visit.customer_id == customer_id, visit_period(date_from, date_to)))
    if employee_id is not None:
        query = query.where(Visit.employee_id == employee_id)
    if employee_ids is not None:
        query = query.where(Visit.employee_id.in_(sorted(employee_ids)))
    rows = session.execute(query).all()
    photos: dict[int, list] = defaultdict(list)
    if rows:
        for photo in session.scalars(select(VisitPhoto).where(VisitPhoto.visit_id.in_([v.id for v, _ in rows]))
                                     .order_by(VisitPhoto.id)):
            photos[photo.visit_id].append({"id": photo.id, "original_name": photo.original_name,
                                           "content_type": photo.content_type})
    views = [_visit_view(visit, name, photos.get(visit.id, [])) for visit, name in rows]
    return sorted(views, key=lambda v: (v["at"], v["id"]))


def _visit_view(visit: Visit, employee_name: str, photos: list[dict]) -> dict:
    at = visit.checked_in_at or visit.planned_start
    planned, actual = _minutes(visit.planned_start, visit.planned_end), _minutes(visit.checked_in_at,
                                                                                 visit.checked_out_at)
    difference = actual - planned if planned is not None and actual is not None else None
    return {
        "id": visit.id, "job_id": visit.job_id, "employee_id": visit.employee_id, "employee_name": employee_name,
        "date": _iso(at.date()), "at": _iso(at), "planned_start": _iso(visit.planned_start),
        "planned_end": _iso(visit.planned_end), "checked_in_at": _iso(visit.checked_in_at),
        "checked_out_at": _iso(visit.checked_out_at), "planned_minutes": planned,
        "planned_duration": duration_text(planned), "actual_minutes": actual, "actual_duration": duration_text(actual),
        "difference_minutes": difference, "note": visit.note, "photos": photos,
    }


def project_view(ctx: Context, actor: Actor, customer_id: int, job_id: int, kind: str = "hours",
                 date_from: date | None = None, date_to: date | None = None, employee_id: int | None = None,
                 status: str | None = None) -> dict:
    """One job's registrations of one kind, filtered, with totals and which rows the contact may decide now.

    :raises NotFound: another customer's job, an unknown kind, or a kind the portal does not show.
    """
    with ctx.uow() as uow:
        session = uow.session
        _, sections = portal_scope(session, actor, customer_id)
        require_section(sections, KIND_SECTIONS.get(kind, ""))
        job = session.scalar(select(Job).where(Job.id == job_id, Job.customer_id == customer_id))
        if job is None:
            raise NotFound(f"no job {job_id}")
        base = Registration.job_id == job_id, Registration.kind == kind
        query = (select(Registration, StaffUser.name).join(StaffUser, StaffUser.id == Registration.employee_id)
                 .where(*base, *_filters(date_from, date_to, employee_id, status))
                 .order_by(Registration.work_date, Registration.start_time, Registration.id))
        rows = [_registration_view(row, name) for row, name in session.execute(query)]
        employees = session.execute(select(StaffUser.id, StaffUser.name).distinct()
                                    .join(Registration, Registration.employee_id == StaffUser.id)
                                    .where(*base).order_by(StaffUser.name, StaffUser.id)).all()
        decidable = set(session.scalars(select(Registration.id).where(
            *base, Registration.status.in_(DECIDABLE),
            Registration.approval_instance_id.in_(_open_reviews(customer_id)))))
    minutes = sum(r["minutes"] or 0 for r in rows)
    cents = sum(r["amount_cents"] or 0 for r in rows)
    return {
        "job": {"id": job.id, "name": job.name, "period_start": _iso(job.period_start),
                "period_end": _iso(job.period_end), "approval_status": job.approval_status},
        "kind": kind, "rows": rows, "sections": sections,
        "totals": {"minutes": minutes, "duration": duration_text(minutes), "amount_cents": cents,
                   "amount": money_text(cents), "km": round(sum(r["km"] or 0 for r in rows), 2), "count": len(rows)},
        "employees": [(eid, name) for eid, name in employees], "statuses": [str(s) for s in ApprovalStatus],
        "decidable_ids": [r["id"] for r in rows if r["id"] in decidable],
    }


def _filters(date_from: date | None, date_to: date | None, employee_id: int | None, status: str | None) -> list:
    conditions = []
    if date_from is not None:
        conditions.append(Registration.work_date >= date_from)
    if date_to is not None:
        conditions.append(Registration.work_date <= date_to)
    if employee_id is not None:
        conditions.append(Registration.employee_id == employee_id)
    if status:
        conditions.append(Registration.status == status)
    return conditions


def visits_overview(ctx: Context, actor: Actor, customer_id: int, date_from: date, date_to: date,
                    employee_id: int | None = None) -> list[dict]:
    """The customer's visits in the days, sorted by time: planned and actual times, durations and photos.

    :raises NotFound: a customer the actor does not act for, or visits are not shown to its contacts.
    """
    with ctx.uow() as uow:
        _, sections = portal_scope(uow.session, actor, customer_id)
        require_section(sections, "visits")
        return _visit_views(uow.session, customer_id, date_from, date_to, employee_id)


def month_calendar(year: int, month: int) -> list[list[date]]:
    """The weeks (Monday first, full weeks) that cover the month."""
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    following = date(year + month // 12, month % 12 + 1, 1)
    weeks = []
    while start < following:
        weeks.append([start + timedelta(days=i) for i in range(7)])
        start += timedelta(days=7)
    return weeks


def week_days(anchor: date) -> list[date]:
    """The ISO week (Monday to Sunday) that holds `anchor`."""
    monday = anchor - timedelta(days=anchor.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def _shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def visits_calendar(ctx: Context, actor: Actor, customer_id: int, view: str = "month", anchor: date | None = None,
                    employee_id: int | None = None) -> dict:
    """Visits on a month grid (full weeks, Monday first) or one ISO week, with the anchors of the pages around.

    :raises NotFound: as visits_overview, or an unknown view.
    """
    anchor = anchor or ctx.clock().date()
    if view == "month":
        weeks = month_calendar(anchor.year, anchor.month)
        prev_anchor, next_anchor = _shift_month(anchor, -1), _shift_month(anchor, 1)
        label = f"{anchor:%B %Y}"
    elif view == "week":
        weeks = [week_days(anchor)]
        prev_anchor, next_anchor = weeks[0][0] - timedelta(days=7), weeks[0][0] + timedelta(days=7)
        iso = anchor.isocalendar()
        label = f"Week {iso.week}, {iso.year}"
    else:
        raise NotFound(f"no calendar view {view}")
    visits = visits_overview(ctx, actor, customer_id, weeks[0][0], weeks[-1][-1], employee_id)
    by_day: dict[str, list] = defaultdict(list)
    for visit in visits:
        by_day[visit["date"]].append(visit)
    return {
        "view": view, "label": label, "anchor": _iso(anchor), "prev": _iso(prev_anchor), "next": _iso(next_anchor),
        "weeks": [[{"date": _iso(day), "in_month": view == "week" or day.month == anchor.month,
                    "visits": by_day.get(_iso(day), [])} for day in week] for week in weeks],
    }
