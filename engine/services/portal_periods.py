"""Which period the portal's "Work hours" page shows: the one asked for, else this month, or — when this month
has no visits yet (the 1st of a month) — the latest month with visits; with the periods before and after it.
"""

from datetime import date, timedelta

from engine.isotime import iso, month_of
from engine.services.context import Actor, Context
from engine.services.portal_scope import require_section, scope_sections
from engine.services.portal_visits import _visit_views, latest_visit_day


def neighbour_periods(first: date, last: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """The periods before and after: whole months stay whole months, any other span moves by its own length."""
    if first.day == 1 and month_of(first)[1] == last:
        before = month_of(first - timedelta(days=1))
        return before, month_of(last + timedelta(days=1))
    length = (last - first).days + 1
    return ((first - timedelta(days=length), first - timedelta(days=1)),
            (last + timedelta(days=1), last + timedelta(days=length)))


def visits_in_period(ctx: Context, actor: Actor, customer_id: int, date_from: date | None, date_to: date | None,
                     employee_id: int | None = None) -> dict:
    """The customer's visits of a period: {"visits", "date_from", "date_to", "prev": {"from", "to"}, "next",
    "latest": bool (the page fell back to the latest month with visits)}. Without dates: this month, or the
    latest month with visits when this one has none.

    :raises NotFound: a customer the actor does not act for, or visits are not shown to its contacts.
    """
    zone = ctx.settings.zone
    today = ctx.clock().astimezone(zone).date()
    with ctx.read() as uow:
        session = uow.session
        sections = scope_sections(session, actor, customer_id)
        require_section(sections, "visits")
        first, last = month_of(today)
        first, last = date_from or first, date_to or last
        visits = _visit_views(session, customer_id, first, last, zone, employee_id)
        latest = False
        if not visits and date_from is None and date_to is None:
            newest = latest_visit_day(session, customer_id, zone)
            if newest is not None:
                first, last = month_of(newest)
                visits = _visit_views(session, customer_id, first, last, zone, employee_id)
                latest = True
    before, after = neighbour_periods(first, last)
    return {"visits": visits, "date_from": first, "date_to": last, "latest": latest,
            "prev": {"from": iso(before[0]), "to": iso(before[1])},
            "next": {"from": iso(after[0]), "to": iso(after[1])}}
