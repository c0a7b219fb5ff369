"""The customer portal's work-hours overview: visits with planned and actual times and photos, and a calendar.

Days and times are the company's (Settings.timezone): a visit at 23:30 UTC may belong to the next local day.
"""

from collections import defaultdict
from datetime import date, timedelta, tzinfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.isotime import in_zone, iso, local_midnight
from engine.models import StaffUser, Visit, VisitPhoto
from engine.services.context import Actor, Context
from engine.services.portal_scope import require_section, scope_sections
from engine.services.work_fields import duration_text, minutes_between


def visits_by_day(session: Session, customer_id: int, keys: list[tuple[int, date]],
                  zone: tzinfo) -> dict[tuple, list]:
    """Visits of the given (employee, day) pairs, keyed by them (the evidence next to hour registrations)."""
    first, last = min(day for _, day in keys), max(day for _, day in keys)
    views = _visit_views(session, customer_id, first, last, zone, None, {e for e, _ in keys})
    by_day: dict[tuple, list] = defaultdict(list)
    for view in views:
        by_day[(view["employee_id"], date.fromisoformat(view["date"]))].append(view)
    return by_day


def visit_period(date_from: date | None, date_to: date | None, zone: tzinfo) -> ColumnElement[bool]:
    """A visit's day is the local day of its check-in, else of its planned start; either bound may be open."""
    def within(column) -> ColumnElement[bool]:
        bounds = [column.is_not(None)]
        if date_from is not None:
            bounds.append(column >= local_midnight(date_from, zone))
        if date_to is not None:
            bounds.append(column < local_midnight(date_to + timedelta(days=1), zone))
        return and_(*bounds)
    return or_(within(Visit.checked_in_at), and_(Visit.checked_in_at.is_(None), within(Visit.planned_start)))


def _visit_views(session: Session, customer_id: int, date_from: date, date_to: date, zone: tzinfo,
                 employee_id: int | None, employee_ids: set[int] | None = None) -> list[dict]:
    """Visits whose check-in (else planned start) falls in the days, sorted by that time, with their photos."""
    query = (select(Visit, StaffUser.name).join(StaffUser, StaffUser.id == Visit.employee_id)
             .where(Visit.customer_id == customer_id, visit_period(date_from, date_to, zone)))
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
    views = [_visit_view(visit, name, photos.get(visit.id, []), zone) for visit, name in rows]
    return sorted(views, key=lambda v: (v["at"], v["id"]))


def _visit_view(visit: Visit, employee_name: str, photos: list[dict], zone: tzinfo) -> dict:
    """Times as ISO strings with the company's offset, so a page shows local hours by cutting out HH:MM."""
    at = in_zone(visit.checked_in_at or visit.planned_start, zone)
    planned, actual = minutes_between(visit.planned_start, visit.planned_end), minutes_between(visit.checked_in_at,
                                                                                 visit.checked_out_at)
    difference = actual - planned if planned is not None and actual is not None else None
    return {
        "id": visit.id, "job_id": visit.job_id, "employee_id": visit.employee_id, "employee_name": employee_name,
        "date": iso(at.date()), "at": iso(at), "planned_start": iso(in_zone(visit.planned_start, zone)),
        "planned_end": iso(in_zone(visit.planned_end, zone)), "checked_in_at": iso(in_zone(visit.checked_in_at, zone)),
        "checked_out_at": iso(in_zone(visit.checked_out_at, zone)), "planned_minutes": planned,
        "planned_duration": duration_text(planned), "actual_minutes": actual, "actual_duration": duration_text(actual),
        "difference_minutes": difference, "note": visit.note, "photos": photos,
    }


def visits_overview(ctx: Context, actor: Actor, customer_id: int, date_from: date, date_to: date,
                    employee_id: int | None = None) -> list[dict]:
    """The customer's visits in the days, sorted by time: planned and actual times, durations and photos.

    :raises NotFound: a customer the actor does not act for, or visits are not shown to its contacts.
    """
    with ctx.uow() as uow:
        sections = scope_sections(uow.session, actor, customer_id)
        require_section(sections, "visits")
        return _visit_views(uow.session, customer_id, date_from, date_to, ctx.settings.zone, employee_id)


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


def latest_visit_day(session: Session, customer_id: int, zone: tzinfo) -> date | None:
    """The local day of the customer's latest visit (by check-in, else planned start); None without visits."""
    newest = session.scalar(select(Visit).where(Visit.customer_id == customer_id).order_by(
        func.coalesce(Visit.checked_in_at, Visit.planned_start).desc(), Visit.id.desc()).limit(1))
    moment = (newest.checked_in_at or newest.planned_start) if newest is not None else None
    return in_zone(moment, zone).date() if moment is not None else None


def _shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def visits_calendar(ctx: Context, actor: Actor, customer_id: int, view: str = "month", anchor: date | None = None,
                    employee_id: int | None = None) -> dict:
    """Visits on a month grid (full weeks, Monday first) or one ISO week, with the anchors of the pages around.

    :raises NotFound: as visits_overview, or an unknown view.
    """
    if anchor is None:  # this month, or the latest month with visits while this one has none (the 1st)
        anchor = ctx.clock().astimezone(ctx.settings.zone).date()
        with ctx.read() as uow:
            latest = latest_visit_day(uow.session, customer_id, ctx.settings.zone)
        if latest is not None and latest < anchor.replace(day=1):
            anchor = latest
    if view == "month":
        weeks = month_calendar(anchor.year, anchor.month)
        prev_anchor, next_anchor = _shift_month(anchor, -1), _shift_month(anchor, 1)
        label = f"{anchor:%B %Y}"
    elif view == "week":
        weeks = [week_days(anchor)]
        prev_anchor, next_anchor = weeks[0][0] - timedelta(days=7), weeks[0][0] + timedelta(days=7)
        week = anchor.isocalendar()
        label = f"Week {week.week}, {week.year}"
    else:
        raise NotFound(f"no calendar view {view}")
    visits = visits_overview(ctx, actor, customer_id, weeks[0][0], weeks[-1][-1], employee_id)
    by_day: dict[str, list] = defaultdict(list)
    for visit in visits:
        by_day[visit["date"]].append(visit)
    return {
        "view": view, "label": label, "anchor": iso(anchor), "prev": iso(prev_anchor), "next": iso(next_anchor),
        "weeks": [[{"date": iso(day), "in_month": view == "week" or day.month == anchor.month,
                    "visits": by_day.get(iso(day), [])} for day in week] for week in weeks],
    }
