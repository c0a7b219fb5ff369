"""Hours, expenses and mileage registered on jobs: create, edit and delete drafts, list with totals, receipts.

Employees register only for themselves, on jobs of customers they are associated with; admins and managers for
any active staff member, on jobs of customers in their scope (engine.services.staff_scope). The approval status
is set only by the approval processes: these functions create drafts and refuse to touch anything else.
"""

import mimetypes
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from engine.errors import InvalidInput, NotFound
from engine.isotime import iso
from engine.models import ApprovalStatus, Customer, Job, Registration, RegistrationKind, StaffUser
from engine.services.context import Context
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.staff_scope import OFFICE_ROLES, StaffMember, visible_customer
from engine.services.work_fields import (
    duration_text,
    money_text,
    parse_date,
    period_filter_problems,
    registration_fields,
    registration_label,
)
from engine.storage import RECEIPT, StoredFile

# An alias: staff_scope.visible_customer has an EXISTS on the job table that the outer query must not
# auto-correlate (joining `job` itself would leave that EXISTS without a FROM clause).
JobRow = aliased(Job)

STATUS_TEXT = {ApprovalStatus.SUBMITTED: "submitted for approval", ApprovalStatus.APPROVED: "approved",
               ApprovalStatus.REJECTED: "rejected", ApprovalStatus.QUERIED: "queried by the customer"}

REGISTRATIONS = Keyset("registrations", (Registration.work_date, Registration.id), ("date", "int"), descending=True)


def _view(reg: Registration, job_name: str, customer_id: int, customer_name: str, employee_name: str) -> dict:
    return {
        "id": reg.id, "job_id": reg.job_id, "job_name": job_name, "customer_id": customer_id,
        "customer_name": customer_name, "employee_id": reg.employee_id, "employee_name": employee_name,
        "kind": reg.kind, "work_date": iso(reg.work_date), "description": reg.description,
        "start_time": reg.start_time.strftime("%H:%M") if reg.start_time else None,
        "end_time": reg.end_time.strftime("%H:%M") if reg.end_time else None,
        "minutes": reg.minutes, "duration": duration_text(reg.minutes), "amount_cents": reg.amount_cents,
        "amount": money_text(reg.amount_cents), "has_receipt": bool(reg.receipt_file),
        "receipt_name": reg.receipt_name, "distance_km": reg.distance_km, "from_place": reg.from_place,
        "to_place": reg.to_place, "status": reg.status, "editable": reg.status == ApprovalStatus.DRAFT,
        "customer_decision": reg.customer_decision, "customer_comment": reg.customer_comment,
        "created_at": iso(reg.created_at), "updated_at": iso(reg.updated_at),
        "label": registration_label(reg.kind, reg.work_date, reg.minutes, reg.amount_cents, reg.distance_km,
                                    reg.description),
    }


def _scoped(staff: StaffMember) -> Select:
    """Registrations with job, customer and employee names, narrowed to what this staff member may see."""
    query = (select(Registration, JobRow.name, Customer.id, Customer.name, StaffUser.name)
             .join(JobRow, Registration.job_id == JobRow.id).join(Customer, JobRow.customer_id == Customer.id)
             .join(StaffUser, Registration.employee_id == StaffUser.id).where(visible_customer(staff)))
    if staff.role not in OFFICE_ROLES:
        query = query.where(Registration.employee_id == staff.id)
    return query


def _get_row(session: Session, staff: StaffMember, registration_id: int) -> tuple:
    row = session.execute(_scoped(staff).where(Registration.id == registration_id)).first()
    if row is None:
        raise NotFound(f"no registration {registration_id}")
    return tuple(row)


def _ensure_draft(reg: Registration) -> None:
    if reg.status != ApprovalStatus.DRAFT:
        raise InvalidInput(f"status: {STATUS_TEXT.get(reg.status, reg.status)}; it can no longer be edited")


def _check_target(session: Session, staff: StaffMember, problems: list[str], job_id: int | None,
                  employee_id: int) -> tuple[Job | None, Customer | None, StaffUser | None]:
    """The job (in scope, customer not archived) and the employee the registration is for."""
    job = customer = None
    if job_id is None:
        problems.append("job_id: required")
    else:
        row = session.execute(select(JobRow, Customer).join(Customer, JobRow.customer_id == Customer.id)
                              .where(JobRow.id == job_id, visible_customer(staff))).first()
        if row is None:
            raise NotFound(f"no job {job_id}")
        job, customer = row
        if customer.archived:
            problems.append("job_id: the customer is archived")
    employee = session.get(StaffUser, employee_id)
    if staff.role not in OFFICE_ROLES and employee_id != staff.id:
        problems.append("employee_id: employees register only for themselves")
    elif employee is None or not employee.active:
        problems.append("employee_id: not an active staff member")
    return job, customer, employee


def _check_receipt(ctx: Context, problems: list[str], kind: str, receipt: tuple[bytes, str] | None) -> None:
    if receipt is None:
        return
    if kind != RegistrationKind.EXPENSE:
        problems.append("receipt: only expenses have a receipt")
        return
    try:
        ctx.files.check("receipt", receipt[0], receipt[1], RECEIPT)
    except InvalidInput as err:
        problems.append(str(err))


def _save(ctx: Context, uow, reg: Registration, receipt: tuple[bytes, str] | None) -> str | None:
    """Write the receipt (validation has passed), then commit; a failed commit removes the new file again.

    Returns the stored name of the receipt this one replaced, to delete after the commit.
    """
    old = None
    stored: StoredFile | None = None
    if receipt is not None:
        stored = ctx.files.save("receipt", receipt[0], receipt[1], RECEIPT)
        old, reg.receipt_file, reg.receipt_name = reg.receipt_file, stored.stored_name, stored.original_name
    try:
        uow.session.add(reg)
        uow.commit()
    except Exception:
        if stored is not None:
            ctx.files.delete(stored.stored_name)
        raise
    return old


def create_registration(ctx: Context, *, staff: StaffMember, job_id: int | None, kind: str, work_date,
                        description: str = "", employee_id: int | None = None, start_time=None, end_time=None,
                        minutes=None, amount=None, receipt: tuple[bytes, str] | None = None, distance_km=None,
                        from_place: str | None = None, to_place: str | None = None) -> dict:
    """Register hours, an expense (with an optional image/PDF receipt) or mileage on a job, as a draft.

    :raises NotFound: job outside the staff member's scope. :raises InvalidInput: every problem at once
        ("field: problem; ..."): unknown kind, bad date, no duration, amount/distance not positive, places
        missing, bad receipt, archived customer, registering for someone else (employees), inactive employee.
    """
    fields, problems = registration_fields(kind, work_date, description, start_time, end_time, minutes, amount,
                                           distance_km, from_place, to_place)
    _check_receipt(ctx, problems, fields["kind"], receipt)
    with ctx.uow() as uow:
        job, customer, employee = _check_target(uow.session, staff, problems, job_id,
                                                staff.id if employee_id is None else employee_id)
        if problems:
            raise InvalidInput("; ".join(problems))
        now = ctx.clock()
        reg = Registration(job_id=job.id, employee_id=employee.id, status=ApprovalStatus.DRAFT, created_at=now,
                           updated_at=now, **fields)
        _save(ctx, uow, reg, receipt)
        return _view(reg, job.name, customer.id, customer.name, employee.name)


def update_registration(ctx: Context, *, staff: StaffMember, registration_id: int, job_id: int | None, kind: str,
                        work_date, description: str = "", employee_id: int | None = None, start_time=None,
                        end_time=None, minutes=None, amount=None, receipt: tuple[bytes, str] | None = None,
                        distance_km=None, from_place: str | None = None, to_place: str | None = None) -> dict:
    """Change a draft registration (a new receipt replaces the old one; without one the old one stays).

    :raises NotFound: outside scope (employees: not their own). :raises InvalidInput: not a draft any more
        ("status: ..."), or as create_registration.
    """
    fields, problems = registration_fields(kind, work_date, description, start_time, end_time, minutes, amount,
                                           distance_km, from_place, to_place)
    _check_receipt(ctx, problems, fields["kind"], receipt)
    with ctx.uow() as uow:
        reg = _get_row(uow.session, staff, registration_id)[0]
        _ensure_draft(reg)
        job, customer, employee = _check_target(uow.session, staff, problems, job_id,
                                                reg.employee_id if employee_id is None else employee_id)
        if problems:
            raise InvalidInput("; ".join(problems))
        for key, value in fields.items():
            setattr(reg, key, value)
        if fields["kind"] != RegistrationKind.EXPENSE and reg.receipt_file:
            receipt_gone, reg.receipt_file, reg.receipt_name = reg.receipt_file, None, None
        else:
            receipt_gone = None
        reg.job_id, reg.employee_id, reg.updated_at = job.id, employee.id, ctx.clock()
        replaced = _save(ctx, uow, reg, receipt) or receipt_gone
        if replaced:
            ctx.files.delete(replaced)
        return _view(reg, job.name, customer.id, customer.name, employee.name)


def delete_registration(ctx: Context, *, staff: StaffMember, registration_id: int) -> dict:
    """Delete a draft registration (and its receipt, after the commit).

    :raises NotFound: outside scope. :raises InvalidInput: not a draft any more.
    """
    with ctx.uow() as uow:
        row = _get_row(uow.session, staff, registration_id)
        _ensure_draft(row[0])
        view = _view(*row)
        uow.session.delete(row[0])
        uow.commit()
    if row[0].receipt_file:
        ctx.files.delete(row[0].receipt_file)
    return view


def get_registration(ctx: Context, *, staff: StaffMember, registration_id: int) -> dict:
    """One registration as a view dict.

    :raises NotFound: unknown id or outside scope (employees: not their own).
    """
    with ctx.uow() as uow:
        return _view(*_get_row(uow.session, staff, registration_id))


def list_registrations(ctx: Context, *, staff: StaffMember, job_id: int | None = None,
                       customer_id: int | None = None, employee_id: int | None = None, kind: str | None = None,
                       status: str | None = None, date_from=None, date_to=None, cursor: str = "",
                       size: int = PAGE_SIZE) -> dict:
    """One page of the registrations in scope, newest work date first (then by id), with the totals of every
    row the filters match: {"rows": Page, "totals": {...}}.

    :raises InvalidInput: unknown kind or status, bad dates, period end before start, a cursor of another list.
    """
    problems = period_filter_problems(date_from, date_to)
    start, end = parse_date([], "date_from", date_from), parse_date([], "date_to", date_to)
    if kind and kind not in set(RegistrationKind):
        problems.append(f"kind: must be one of {', '.join(RegistrationKind)}")
    if status and status not in set(ApprovalStatus):
        problems.append(f"status: must be one of {', '.join(ApprovalStatus)}")
    if problems:
        raise InvalidInput("; ".join(problems))
    query = _scoped(staff)
    for column, value in ((Registration.job_id, job_id), (JobRow.customer_id, customer_id),
                          (Registration.employee_id, employee_id), (Registration.kind, kind or None),
                          (Registration.status, status or None)):
        if value is not None:
            query = query.where(column == value)
    if start:
        query = query.where(Registration.work_date >= start)
    if end:
        query = query.where(Registration.work_date <= end)
    filters = {"job": job_id, "customer": customer_id, "employee": employee_id, "kind": kind or "",
               "status": status or "", "from": start, "to": end}
    sums = query.with_only_columns(func.count(Registration.id), func.sum(Registration.minutes),
                                   func.sum(Registration.amount_cents), func.sum(Registration.distance_km))
    with ctx.read() as uow:
        rows, after, before = fetch_page(uow.session, query, REGISTRATIONS, filters, cursor,
                                         lambda row: (row[0].work_date, row[0].id), size)
        count, minutes, cents, km = uow.session.execute(sums).one()
    minutes, cents = minutes or 0, cents or 0
    return {"rows": Page([_view(*row) for row in rows], after, before),
            "totals": {"minutes": minutes, "duration": duration_text(minutes), "amount_cents": cents,
                       "amount": money_text(cents), "km": round(km or 0, 2), "count": count}}


def receipt_file(ctx: Context, *, staff: StaffMember, registration_id: int) -> tuple[Path, str, str]:
    """The stored receipt of a registration: (path, download name, content type).

    :raises NotFound: outside scope, no receipt, or the file is gone.
    """
    with ctx.uow() as uow:
        reg = _get_row(uow.session, staff, registration_id)[0]
    if not reg.receipt_file:
        raise NotFound(f"registration {registration_id} has no receipt")
    path = ctx.files.path(reg.receipt_file)
    content_type = mimetypes.guess_type(reg.receipt_file)[0] or "application/octet-stream"
    return path, reg.receipt_name or path.name, content_type


def list_registration_choices(ctx: Context, *, staff: StaffMember) -> dict:
    """What the registration form and filters offer: jobs of active customers in scope, and (office staff)
    the active staff members one may register for. {"jobs": [...], "employees": [...]}."""
    jobs = (select(JobRow.id, JobRow.name, Customer.id.label("customer_id"), Customer.name.label("customer_name"))
            .join(Customer, JobRow.customer_id == Customer.id)
            .where(visible_customer(staff), Customer.archived.is_(False))
            .order_by(func.lower(Customer.name), func.lower(JobRow.name), JobRow.id))
    people = (select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True))
              .order_by(func.lower(StaffUser.name), StaffUser.id))
    if staff.role not in OFFICE_ROLES:
        people = people.where(StaffUser.id == staff.id)
    with ctx.uow() as uow:
        return {"jobs": [dict(row._mapping) for row in uow.session.execute(jobs)],
                "employees": [dict(row._mapping) for row in uow.session.execute(people)]}



def get_job(ctx: Context, *, staff: StaffMember, job_id: int) -> dict:
    """A job's details for its registrations page (employees too, on jobs of their customers).

    :raises NotFound: unknown job or its customer outside scope.
    """
    manager = aliased(StaffUser)
    query = (select(JobRow, Customer.name, Customer.archived, manager.name)
             .join(Customer, JobRow.customer_id == Customer.id).outerjoin(manager, JobRow.manager_id == manager.id)
             .where(JobRow.id == job_id, visible_customer(staff)))
    with ctx.uow() as uow:
        row = uow.session.execute(query).first()
    if row is None:
        raise NotFound(f"no job {job_id}")
    job, customer_name, archived, manager_name = row
    return {"id": job.id, "name": job.name, "customer_id": job.customer_id, "customer_name": customer_name,
            "customer_archived": archived, "manager_name": manager_name, "period_start": iso(job.period_start),
            "period_end": iso(job.period_end), "requires_customer_approval": job.requires_customer_approval,
            "approval_status": job.approval_status}
