"""Visits at customers: planned and actual check-in/check-out times of one employee, with photos.

Times are stored as timezone-aware UTC datetimes, and entered and shown in the company's time zone. Employees
see and change only their own visits, at customers they are associated with; admins and managers those of
customers in their scope (engine.services.staff_scope).
"""

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from engine.errors import InvalidInput, NotFound
from engine.isotime import iso, local_midnight
from engine.models import Customer, Job, Registration, StaffUser, Visit, VisitPhoto
from engine.services.context import Context
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.staff_scope import OFFICE_ROLES, StaffMember, visible_customer
from engine.services.work_fields import duration_text, minutes_between, parse_date, period_filter_problems, visit_fields
from engine.storage import IMAGE

# An alias: staff_scope.visible_customer has an EXISTS on the job table that the outer query must not
# auto-correlate (joining `job` itself would leave that EXISTS without a FROM clause).
JobRow = aliased(Job)

# when a visit happens: planned, else checked in, else created (never NULL, since created_at is not)
VISIT_WHEN = func.coalesce(Visit.planned_start, Visit.checked_in_at, Visit.created_at).label("visit_when")
VISITS = Keyset("visits", (VISIT_WHEN, Visit.id), ("datetime", "int"), descending=True)


def _shown(ctx: Context, moment: datetime) -> str:
    return f"{moment.astimezone(ctx.settings.zone):%Y-%m-%d %H:%M %Z}"


def _view(visit: Visit, customer_name: str, employee_name: str, job_name: str | None, photo_count: int = 0) -> dict:
    planned, actual = minutes_between(visit.planned_start, visit.planned_end), minutes_between(visit.checked_in_at,
                                                                                 visit.checked_out_at)
    state = "done" if visit.checked_out_at else "checked in" if visit.checked_in_at else "planned"
    return {
        "id": visit.id, "customer_id": visit.customer_id, "customer_name": customer_name, "job_id": visit.job_id,
        "job_name": job_name, "employee_id": visit.employee_id, "employee_name": employee_name,
        "planned_start": iso(visit.planned_start), "planned_end": iso(visit.planned_end),
        "checked_in_at": iso(visit.checked_in_at), "checked_out_at": iso(visit.checked_out_at),
        "note": visit.note, "planned_minutes": planned, "planned_duration": duration_text(planned),
        "actual_minutes": actual, "actual_duration": duration_text(actual), "state": state,
        "photo_count": photo_count, "created_at": iso(visit.created_at),
    }


def _photo_view(photo: VisitPhoto) -> dict:
    return {"id": photo.id, "visit_id": photo.visit_id, "original_name": photo.original_name,
            "content_type": photo.content_type, "size": photo.size, "uploaded_at": iso(photo.uploaded_at)}


def _scoped(staff: StaffMember) -> Select:
    query = (select(Visit, Customer.name, StaffUser.name, JobRow.name)
             .join(Customer, Visit.customer_id == Customer.id).join(StaffUser, Visit.employee_id == StaffUser.id)
             .outerjoin(JobRow, Visit.job_id == JobRow.id).where(visible_customer(staff)))
    if staff.role not in OFFICE_ROLES:
        query = query.where(Visit.employee_id == staff.id)
    return query


def visit_row(session: Session, staff: StaffMember, visit_id: int, lock: bool = False) -> tuple:
    """(visit, customer name, employee name, job name) of a visit in the staff member's scope, optionally
    locked (FOR UPDATE of the visit row).

    :raises NotFound: unknown id or outside scope.
    """
    query = _scoped(staff).where(Visit.id == visit_id)
    row = session.execute(query.with_for_update(of=Visit) if lock else query).first()
    if row is None:
        raise NotFound(f"no visit {visit_id}")
    return tuple(row)


def _check_target(session: Session, staff: StaffMember, problems: list[str], customer_id: int | None,
                  employee_id: int | None, job_id: int | None) -> tuple:
    """The customer (in scope, not archived), the employee (employees: themselves) and the job (of the customer)."""
    customer = job = None
    if customer_id is None:
        problems.append("customer_id: required")
    else:
        customer = session.scalar(select(Customer).where(Customer.id == customer_id, visible_customer(staff)))
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        if customer.archived:
            problems.append("customer_id: the customer is archived")
    employee = session.get(StaffUser, employee_id) if employee_id is not None else None
    if staff.role not in OFFICE_ROLES and employee_id != staff.id:
        problems.append("employee_id: employees plan only their own visits")
    elif employee is None or not employee.active:
        problems.append("employee_id: not an active staff member")
    if job_id is not None:
        job = session.get(Job, job_id)
        if job is None or job.customer_id != customer_id:
            problems.append("job_id: not a job of this customer")
    return customer, employee, job


def create_visit(ctx: Context, *, staff: StaffMember, customer_id: int | None, employee_id: int | None,
                 job_id: int | None = None, planned_start=None, planned_end=None, checked_in_at=None,
                 checked_out_at=None, note: str = "") -> dict:
    """Plan (or record) a visit of an employee at a customer.

    :raises NotFound: customer outside scope. :raises InvalidInput: every problem at once: bad or inverted
        times, check-out without check-in, archived customer, another employee (employees), job of another customer.
    """
    fields, problems = visit_fields(planned_start, planned_end, checked_in_at, checked_out_at, note,
                                    ctx.settings.zone)
    with ctx.uow() as uow:
        customer, employee, job = _check_target(uow.session, staff, problems, customer_id, employee_id, job_id)
        if problems:
            raise InvalidInput("; ".join(problems))
        visit = Visit(customer_id=customer.id, employee_id=employee.id, job_id=job.id if job else None,
                      created_at=ctx.clock(), **fields)
        uow.session.add(visit)
        uow.commit()
        return _view(visit, customer.name, employee.name, job.name if job else None)


def update_visit(ctx: Context, *, staff: StaffMember, visit_id: int, planned_start=None, planned_end=None,
                 checked_in_at=None, checked_out_at=None, note: str = "") -> dict:
    """Change a visit's times and note.

    :raises NotFound: outside scope (employees: not their own). :raises InvalidInput: as create_visit.
    """
    fields, problems = visit_fields(planned_start, planned_end, checked_in_at, checked_out_at, note,
                                    ctx.settings.zone)
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        visit, *names = visit_row(uow.session, staff, visit_id)
        for key, value in fields.items():
            setattr(visit, key, value)
        uow.commit()
        return _view(visit, *names)


def check_in(ctx: Context, *, staff: StaffMember, visit_id: int) -> dict:
    """Record the check-in now.

    :raises NotFound: outside scope. :raises InvalidInput: already checked in.
    """
    with ctx.uow() as uow:
        visit, *names = visit_row(uow.session, staff, visit_id)
        if visit.checked_in_at is not None:
            raise InvalidInput(f"checked_in_at: already checked in at {_shown(ctx, visit.checked_in_at)}")
        visit.checked_in_at = ctx.clock()
        uow.commit()
        return _view(visit, *names)


def record_check_out(ctx: Context, visit: Visit) -> None:
    """Check `visit` out now (a helper of check_out and engine.services.visit_hours).

    :raises InvalidInput: not checked in, already checked out, or the check-in lies in the future.
    """
    now = ctx.clock()
    if visit.checked_in_at is None:
        raise InvalidInput("checked_out_at: check in first")
    if visit.checked_out_at is not None:
        raise InvalidInput(f"checked_out_at: already checked out at {_shown(ctx, visit.checked_out_at)}")
    if now < visit.checked_in_at:
        raise InvalidInput("checked_out_at: must not be before the check-in")
    visit.checked_out_at = now


def check_out(ctx: Context, *, staff: StaffMember, visit_id: int) -> dict:
    """Record the check-out now.

    :raises NotFound: outside scope. :raises InvalidInput: see record_check_out.
    """
    with ctx.uow() as uow:
        visit, *names = visit_row(uow.session, staff, visit_id)
        record_check_out(ctx, visit)
        uow.commit()
        return _view(visit, *names)


def _add_photos(ctx: Context, *, staff: StaffMember, visit_id: int, files: list[tuple[bytes, str]]) -> list[dict]:
    """Check every upload first (JPEG, PNG or WebP by content), then write them and commit in one transaction."""
    problems = [] if files else ["photo: choose at least one image"]
    for data, filename in files:
        try:
            ctx.files.check("photo", data, filename, IMAGE)
        except InvalidInput as err:
            problems.append(str(err))
    with ctx.uow() as uow:
        visit = visit_row(uow.session, staff, visit_id)[0]
        if problems:
            raise InvalidInput("; ".join(problems))
        stored = [ctx.files.save("photo", data, filename, IMAGE) for data, filename in files]
        photos = [VisitPhoto(visit_id=visit.id, stored_name=s.stored_name, original_name=s.original_name,
                             content_type=s.content_type, size=s.size, uploaded_at=ctx.clock()) for s in stored]
        try:
            uow.session.add_all(photos)
            uow.commit()
        except Exception:  # the rows are gone, so the files must go too
            for item in stored:
                ctx.files.delete(item.stored_name)
            raise
        return [_photo_view(photo) for photo in photos]


def add_photos(ctx: Context, *, staff: StaffMember, visit_id: int, files: list[tuple[bytes, str]]) -> list[dict]:
    """Store several photos (an upload form with `multiple`): all of them, or none if one is bad.

    :raises NotFound: outside scope. :raises InvalidInput: no file, or one empty, too large or not an image.
    """
    return _add_photos(ctx, staff=staff, visit_id=visit_id, files=files)


def add_photo(ctx: Context, *, staff: StaffMember, visit_id: int, data: bytes, filename: str) -> dict:
    """Store one photo with a visit.

    :raises NotFound: outside scope. :raises InvalidInput: empty, too large, or not an image.
    """
    return _add_photos(ctx, staff=staff, visit_id=visit_id, files=[(data, filename)])[0]


def _get_photo(session: Session, staff: StaffMember, photo_id: int) -> VisitPhoto:
    photo = session.get(VisitPhoto, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id}")
    visit_row(session, staff, photo.visit_id)
    return photo


def delete_photo(ctx: Context, *, staff: StaffMember, photo_id: int) -> dict:
    """Delete a photo (the file goes after the commit).

    :raises NotFound: outside scope.
    """
    with ctx.uow() as uow:
        photo = _get_photo(uow.session, staff, photo_id)
        view = _photo_view(photo)
        uow.session.delete(photo)
        uow.commit()
    ctx.files.delete(photo.stored_name)
    return view


def photo_file(ctx: Context, *, staff: StaffMember, photo_id: int) -> tuple[Path, str, str]:
    """The stored photo: (path, original name, content type).

    :raises NotFound: outside scope, or the file is gone.
    """
    with ctx.uow() as uow:
        photo = _get_photo(uow.session, staff, photo_id)
    return ctx.files.path(photo.stored_name), photo.original_name, photo.content_type


def get_visit(ctx: Context, *, staff: StaffMember, visit_id: int) -> dict:
    """One visit with its photos (oldest first).

    :raises NotFound: unknown id or outside scope.
    """
    with ctx.uow() as uow:
        row = visit_row(uow.session, staff, visit_id)
        photos = uow.session.scalars(select(VisitPhoto).where(VisitPhoto.visit_id == visit_id)
                                     .order_by(VisitPhoto.uploaded_at, VisitPhoto.id)).all()
        hours_id = uow.session.scalar(select(Registration.id).where(Registration.visit_id == visit_id))
    view = _view(*row, photo_count=len(photos))
    view["photos"] = [_photo_view(photo) for photo in photos]
    view["hours_registration_id"] = hours_id
    return view


def list_visits(ctx: Context, *, staff: StaffMember, customer_id: int | None = None,
                employee_id: int | None = None, date_from=None, date_to=None, cursor: str = "",
                size: int = PAGE_SIZE) -> Page:
    """One page of the visits in scope with photo counts and durations, latest planned/checked-in first (then
    by id).

    The period filters on the planned start, or the check-in for unplanned visits (days in the company's time
    zone, inclusive).
    :raises InvalidInput: bad dates, period end before start, a cursor of another list.
    """
    problems = period_filter_problems(date_from, date_to)
    if problems:
        raise InvalidInput("; ".join(problems))
    photos = select(func.count(VisitPhoto.id)).where(VisitPhoto.visit_id == Visit.id).scalar_subquery()
    query = _scoped(staff).add_columns(photos, VISIT_WHEN)
    when = VISIT_WHEN
    if customer_id is not None:
        query = query.where(Visit.customer_id == customer_id)
    if employee_id is not None:
        query = query.where(Visit.employee_id == employee_id)
    start, end = parse_date([], "date_from", date_from), parse_date([], "date_to", date_to)
    if start:
        query = query.where(when >= local_midnight(start, ctx.settings.zone))
    if end:
        query = query.where(when < local_midnight(end + timedelta(days=1), ctx.settings.zone))
    filters = {"customer": customer_id, "employee": employee_id, "from": start, "to": end}
    with ctx.read() as uow:
        rows, after, before = fetch_page(uow.session, query, VISITS, filters, cursor,
                                         lambda row: (row[5], row[0].id), size)
    return Page([_view(*row[:4], photo_count=row[4]) for row in rows], after, before)


def list_visit_choices(ctx: Context, *, staff: StaffMember) -> dict:
    """What the visit form and filters offer: active customers in scope with their jobs, and the staff members
    one may plan for (employees: themselves). {"customers": [...], "jobs": [...], "employees": [...]}."""
    customers = (select(Customer.id, Customer.name).where(visible_customer(staff), Customer.archived.is_(False))
                 .order_by(func.lower(Customer.name), Customer.id))
    jobs = (select(JobRow.id, JobRow.name, JobRow.customer_id, Customer.name.label("customer_name"))
            .join(Customer, JobRow.customer_id == Customer.id)
            .where(visible_customer(staff), Customer.archived.is_(False))
            .order_by(func.lower(Customer.name), func.lower(JobRow.name), JobRow.id))
    people = select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True)).order_by(func.lower(StaffUser.name))
    if staff.role not in OFFICE_ROLES:
        people = people.where(StaffUser.id == staff.id)
    with ctx.uow() as uow:
        return {key: [dict(row._mapping) for row in uow.session.execute(query)]
                for key, query in (("customers", customers), ("jobs", jobs), ("employees", people))}
