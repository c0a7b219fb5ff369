"""Visits become hours: a finished visit (check-in and check-out) turned into an hours registration, once.

By one click, or by itself at check-out when the company setting `visits_become_hours` is on. The registration
takes the visit's local day, its check-in and check-out times (company time zone) and its job; it is a draft like
any other. `registration.visit_id` is unique (migration 0020), so a second click or a double submit never makes
a second registration: the visit row is locked first, and a concurrent insert that slips past is refused by the
database and reported the same way.
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import Registration, RegistrationKind, Visit
from engine.services.company_settings import load_settings
from engine.services.context import Context
from engine.services.staff_scope import StaffMember
from engine.services.visits import record_check_out, visit_row
from engine.services.work_fields import MAX_MINUTES, duration_text, minutes_between


def _already(session: Session, visit_id: int) -> Registration | None:
    return session.scalar(select(Registration).where(Registration.visit_id == visit_id))


def _describe(registration: Registration) -> str:
    return f"{registration.work_date.day} {registration.work_date:%b}, {duration_text(registration.minutes)} h"


def _add_hours(ctx: Context, session: Session, visit: Visit, customer_name: str) -> Registration:
    """The draft hours registration of a finished visit (flushed, so a unique clash shows here).

    :raises InvalidInput: not checked in and out, no job, already turned into hours, or longer than a day.
    """
    if visit.checked_in_at is None or visit.checked_out_at is None:
        raise InvalidInput("visit: check in and check out first; only a finished visit becomes hours")
    if visit.job_id is None:
        raise InvalidInput("visit: link it to a job first; hours are registered on a job")
    done = _already(session, visit.id)
    if done is not None:
        raise InvalidInput(f"visit: already registered as hours ({_describe(done)})")
    minutes = minutes_between(visit.checked_in_at, visit.checked_out_at) or 0
    if not 0 < minutes <= MAX_MINUTES:
        raise InvalidInput("visit: its check-in and check-out must be between 1 minute and 24 hours apart")
    zone = ctx.settings.zone
    start, end = visit.checked_in_at.astimezone(zone), visit.checked_out_at.astimezone(zone)
    same_day = start.date() == end.date() and end.time() > start.time()
    now = ctx.clock()
    registration = Registration(
        job_id=visit.job_id, employee_id=visit.employee_id, kind=RegistrationKind.HOURS, work_date=start.date(),
        start_time=start.time().replace(second=0, microsecond=0) if same_day else None,
        end_time=end.time().replace(second=0, microsecond=0) if same_day else None, minutes=minutes,
        description=(visit.note or f"Visit at {customer_name}")[:2000], visit_id=visit.id, created_at=now,
        updated_at=now)
    session.add(registration)
    session.flush()
    return registration


def _view(registration: Registration) -> dict:
    return {"id": registration.id, "visit_id": registration.visit_id, "work_date": registration.work_date.isoformat(),
            "minutes": registration.minutes, "duration": duration_text(registration.minutes),
            "label": _describe(registration)}


def turn_visit_into_hours(ctx: Context, *, staff: StaffMember, visit_id: int) -> dict:
    """Register a finished visit's time as hours on its job; returns the registration.

    :raises NotFound: a visit outside the staff member's scope.
    :raises InvalidInput: see _add_hours (a second call says the visit is already registered as hours).
    """
    with ctx.uow() as uow:
        visit, customer_name, *_ = visit_row(uow.session, staff, visit_id, lock=True)
        try:
            registration = _add_hours(ctx, uow.session, visit, customer_name)
            uow.commit()
        except IntegrityError as err:  # a concurrent request won the unique visit_id
            raise InvalidInput("visit: already registered as hours") from err
        return _view(registration)


def check_out_visit(ctx: Context, *, staff: StaffMember, visit_id: int) -> dict:
    """Check the visit out now; when the company turns visits into hours by itself, register them too (one
    transaction). Returns {"hours": the registration or None, "hours_problem": why none was made or ""}.

    :raises NotFound: outside scope. :raises InvalidInput: see visits.record_check_out.
    """
    with ctx.uow() as uow:
        session = uow.session
        visit, customer_name, *_ = visit_row(session, staff, visit_id, lock=True)
        record_check_out(ctx, visit)
        hours, problem = None, ""
        if load_settings(session).visits_become_hours:
            try:
                with session.begin_nested():
                    hours = _view(_add_hours(ctx, session, visit, customer_name))
            except (InvalidInput, IntegrityError) as err:
                problem = str(err).partition(": ")[2] if isinstance(err, InvalidInput) else "already registered"
        uow.commit()
        return {"hours": hours, "hours_problem": problem}
