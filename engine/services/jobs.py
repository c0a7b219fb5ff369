"""Jobs (projects) of customers: create and list (admins and managers)."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from engine.errors import InvalidInput, NotFound
from engine.isotime import iso
from engine.models import Customer, Job, StaffUser
from engine.services.context import Context
from engine.services.customers import NAME_MAX
from engine.services.staff_scope import (
    OFFICE_ROLES,
    StaffMember,
    ensure_office_role,
    get_visible_customer,
    visible_customer,
)
from engine.services.work_fields import parse_date


def _job_view(job: Job, customer_name: str, manager_name: str | None) -> dict:
    return {
        "id": job.id, "customer_id": job.customer_id, "customer_name": customer_name,
        "manager_id": job.manager_id, "manager_name": manager_name, "name": job.name,
        "period_start": iso(job.period_start), "period_end": iso(job.period_end),
        "requires_customer_approval": job.requires_customer_approval, "created_at": iso(job.created_at),
        "approval_status": job.approval_status, "approval_instance_id": job.approval_instance_id,
    }


def list_job_managers(ctx: Context, *, staff: StaffMember) -> list[dict]:
    """Active admins and managers who may manage a job, by name (for the job form's choices).

    :raises NotAllowed: employees.
    """
    ensure_office_role(staff)
    query = (select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True),
                                                        StaffUser.role.in_(sorted(OFFICE_ROLES)))
             .order_by(func.lower(StaffUser.name), StaffUser.id))
    with ctx.uow() as uow:
        return [{"id": row.id, "name": row.name} for row in uow.session.execute(query)]


def _job_fields(session, problems: list[str], name: str, manager_id: int | None, period_start, period_end,
                requires_customer_approval: bool) -> tuple[dict, StaffUser | None]:
    """Check what a job form gives; problems are appended as "field: problem"."""
    name = (name or "").strip()
    if not name:
        problems.append("name: required")
    elif len(name) > NAME_MAX:
        problems.append(f"name: at most {NAME_MAX} characters")
    start = parse_date(problems, "period_start", period_start)
    end = parse_date(problems, "period_end", period_end)
    if start and end and end < start:
        problems.append("period_end: must not be before the start")
    manager = session.get(StaffUser, manager_id) if manager_id is not None else None
    if manager_id is not None and (manager is None or not manager.active or manager.role not in OFFICE_ROLES):
        problems.append("manager_id: not an active admin or manager")
    return {"name": name, "manager_id": manager_id, "period_start": start, "period_end": end,
            "requires_customer_approval": bool(requires_customer_approval)}, manager


def create_job(ctx: Context, customer_id: int, *, staff: StaffMember, name: str, manager_id: int | None = None,
               period_start: date | str | None = None, period_end: date | str | None = None,
               requires_customer_approval: bool = False) -> dict:
    """Create a job for a customer.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    :raises InvalidInput: name missing/too long, bad dates, end before start, manager not an active admin/manager,
        customer archived.
    """
    ensure_office_role(staff)
    problems: list[str] = []
    with ctx.uow() as uow:
        session = uow.session
        customer = get_visible_customer(session, staff, customer_id)
        if customer.archived:
            problems.append("customer: archived; restore it first")
        fields, manager = _job_fields(session, problems, name, manager_id, period_start, period_end,
                                      requires_customer_approval)
        if problems:
            raise InvalidInput("; ".join(problems))
        job = Job(customer_id=customer_id, **fields, created_at=ctx.clock())
        session.add(job)
        uow.commit()
        return _job_view(job, customer.name, manager.name if manager else None)


def update_job(ctx: Context, job_id: int, *, staff: StaffMember, name: str, manager_id: int | None = None,
               period_start: date | str | None = None, period_end: date | str | None = None,
               requires_customer_approval: bool = False) -> dict:
    """Change a job's name, manager, period or whether the customer approves it.

    :raises NotAllowed: employees. :raises NotFound: a job outside the staff member's scope.
    :raises InvalidInput: as create_job.
    """
    ensure_office_role(staff)
    problems: list[str] = []
    with ctx.uow() as uow:
        session = uow.session
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        customer = get_visible_customer(session, staff, job.customer_id)
        fields, manager = _job_fields(session, problems, name, manager_id, period_start, period_end,
                                      requires_customer_approval)
        if problems:
            raise InvalidInput("; ".join(problems))
        for key, value in fields.items():
            setattr(job, key, value)
        uow.commit()
        return _job_view(job, customer.name, manager.name if manager else None)


def get_job_for_edit(ctx: Context, job_id: int, *, staff: StaffMember) -> dict:
    """One job as the edit form needs it.

    :raises NotAllowed: employees. :raises NotFound: a job outside the staff member's scope.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        job = uow.session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        customer = get_visible_customer(uow.session, staff, job.customer_id)
        return _job_view(job, customer.name, None)


def list_jobs(ctx: Context, customer_id: int | None = None, *, staff: StaffMember) -> list[dict]:
    """Jobs with customer and manager names (one query), newest period first, optionally of one customer.

    :raises NotAllowed: employees.
    """
    ensure_office_role(staff)
    manager = aliased(StaffUser)
    query = (select(Job, Customer.name, manager.name).join(Customer, Job.customer_id == Customer.id)
             .outerjoin(manager, Job.manager_id == manager.id)
             .order_by(Job.period_start.desc().nulls_last(), Job.id.desc()))
    query = query.where(visible_customer(staff))
    if customer_id is not None:
        query = query.where(Job.customer_id == customer_id)
    with ctx.uow() as uow:
        rows = uow.session.execute(query).all()
    return [_job_view(job, customer_name, manager_name) for job, customer_name, manager_name in rows]
