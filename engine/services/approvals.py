"""The Customer Approval screen's use cases: send a job or a customer's hours for approval, cancel, resend.

A job goes to the process bound to the customer's job approvals (engine.services.bindings; `job_approval` by
default) together with its registrations that are not yet approved; a customer's hours for a period go to the
one bound to its timesheets (`timesheet_approval`). The instance's `case_type` says which it is. The job and
the registrations are linked to the instance before its first steps run, so `case.set_status`
(engine.service_tasks.handlers) carries every status change to them.
"""

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import (
    ApprovalStatus,
    Customer,
    InstanceStatus,
    Job,
    Registration,
    RegistrationKind,
    StaffRole,
    StaffUser,
    WorkflowInstance,
)
from engine.services.bindings import CASE_TYPES, bound_process
from engine.services.company_settings import effective_policy, load_settings
from engine.services.context import Actor, Context
from engine.services.customer_notifications import customer_mails
from engine.services.instances import cancel_locked, create_instance, lock_instance
from engine.services.portal_scope import approver_contacts
from engine.services.staff_scope import StaffMember, get_visible_customer
from engine.services.work_fields import parse_date

ACTIVE_CASE = frozenset({"awaiting_customer", "reminded", "queried", "escalated"})
APPROVED_CASE = frozenset({"approved", "expired_auto_approved"})
SENDABLE = (ApprovalStatus.DRAFT, ApprovalStatus.REJECTED)  # rejected work may be corrected and sent again


def ensure_may_send(staff: StaffMember) -> None:
    """:raises NotAllowed: an employee without the "may send for customer approval" permission."""
    if staff.role not in (StaffRole.ADMIN, StaffRole.MANAGER) and not getattr(staff, "may_send_for_approval", False):
        raise NotAllowed("you may not send work for customer approval (ask an admin for the permission)")


def _actor(staff: StaffMember) -> Actor:
    return Actor(f"{staff.name} (staff {staff.id})", staff_id=staff.id, staff_role=staff.role)  # the sender


def _case_data(session: Session, customer: Customer, manager_id: int | None, title: str) -> dict:
    """Start variables every approval gets: the policy, who decides, and where the mails go (`customer_emails`:
    the customer's approvers, engine.services.portal_scope).

    :raises InvalidInput: approval switched off, customer archived, without portal access or without a contact
        e-mail address.
    """
    settings = load_settings(session)
    problems = []
    if not settings.customer_approval_enabled:
        problems.append("customer approval is switched off in the settings")
    if customer.archived:
        problems.append(f"customer: {customer.name} is archived")
    elif not customer.portal_access:
        problems.append(f"customer: {customer.name} has no portal access; grant it first so its contact can decide")
    emails = list(dict.fromkeys(contact.email for contact in approver_contacts(session, customer.id)))
    if not emails:
        problems.append(f"customer: {customer.name} has no contact with an e-mail address")
    if problems:
        raise InvalidInput("; ".join(problems))
    manager = session.get(StaffUser, manager_id) if manager_id is not None else None
    return {"customer_id": customer.id, "manager_id": manager_id, "title": title, "customer_emails": emails,
            "manager_email": manager.email if manager is not None else None,
            "customer_mails": customer_mails(customer), **effective_policy(settings, customer)}


def work_totals(registrations: list[Registration]) -> dict:
    """What a case is worth, as start variables a manager's diagram may test (`${expenses_total > 500}`): the
    hours (decimal), the expenses (in the currency, decimal) and the kilometres sent for approval."""
    minutes = sum(r.minutes or 0 for r in registrations if r.kind == RegistrationKind.HOURS)
    cents = sum(r.amount_cents or 0 for r in registrations if r.kind == RegistrationKind.EXPENSE)
    km = sum(r.distance_km or 0 for r in registrations if r.kind == RegistrationKind.MILEAGE)
    return {"hours_total": round(minutes / 60, 2), "expenses_total": cents / 100, "mileage_total": round(km, 2)}


def start_job_case(ctx: Context, session: Session, staff: StaffMember, job: Job, process_id: str | None = None,
                   extra: dict | None = None) -> int:
    """Start the job's approval in the caller's transaction: the process bound to its customer (or
    `process_id`: a dry run's draft), with the start variables every job approval gets (and `extra` over them).

    :raises InvalidInput: see _case_data. :raises NotFound: the process is not deployed.
    """
    customer = session.get(Customer, job.customer_id)
    registrations = list(session.scalars(select(Registration).where(
        Registration.job_id == job.id, Registration.status.in_(SENDABLE)).with_for_update()))
    data = {**_case_data(session, customer, job.manager_id or staff.id, job.name), "job_id": job.id,
            **work_totals(registrations), **(extra or {})}
    process_id = process_id or bound_process(session, "job", customer.id)
    row, run = create_instance(ctx, session, process_id, data, _actor(staff), case_type="job")
    job.approval_instance_id = row.id
    job.approval_status = "submitted"
    for registration in registrations:
        _link(registration, row.id)
    session.flush()
    run()
    return row.id


def _link(registration: Registration, instance_id: int) -> None:
    registration.approval_instance_id = instance_id
    registration.status = ApprovalStatus.SUBMITTED
    registration.customer_decision = registration.customer_comment = None


def send_job_for_approval(ctx: Context, job_id: int, *, staff: StaffMember) -> int:
    """Start the job approval bound to the job's customer for a job (and its registrations not yet approved);
    returns the instance id.

    :raises NotAllowed: see ensure_may_send. :raises NotFound: a job outside the staff member's scope.
    :raises InvalidInput: the job is already under approval, or see _case_data.
    """
    ensure_may_send(staff)
    with ctx.uow() as uow:
        session = uow.session
        job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None:
            raise NotFound(f"no job {job_id}")
        get_visible_customer(session, staff, job.customer_id)
        if job.approval_status in ACTIVE_CASE or job.approval_status == "submitted" \
                or _is_live(session, job.approval_instance_id):
            raise InvalidInput(f"job: {job.name} is already under approval")
        if job.approval_status in APPROVED_CASE and session.scalar(select(Registration.id).where(
                Registration.job_id == job.id, Registration.status.in_(SENDABLE)).limit(1)) is None:
            raise InvalidInput(f"job: {job.name} is approved and has no new work to send")
        instance_id = start_job_case(ctx, session, staff, job)
        uow.commit()
        return instance_id


def _parse_period(period_start: date | str, period_end: date | str) -> tuple[date, date]:
    """:raises InvalidInput: a missing or malformed day, or an end before the start."""
    problems: list[str] = []
    days = [parse_date(problems, field, value) for field, value in (("period_start", period_start),
                                                                     ("period_end", period_end))]
    for field, day in zip(("period_start", "period_end"), days, strict=True):
        if day is None and not any(p.startswith(field) for p in problems):
            problems.append(f"{field}: not a date (YYYY-MM-DD)")
    if not problems and days[1] < days[0]:
        problems.append("period_end: must not be before the start")
    if problems:
        raise InvalidInput("; ".join(problems))
    return days[0], days[1]


def _start_timesheet_case(ctx: Context, session: Session, staff: StaffMember, customer: Customer,
                          registrations: list[Registration], start: date, end: date) -> int:
    title = f"Hours {start:%d %b} – {end:%d %b %Y}"
    data = {**_case_data(session, customer, customer.account_manager_id or staff.id, title),
            "registration_ids": [r.id for r in registrations], "period_start": start.isoformat(),
            "period_end": end.isoformat(), **work_totals(registrations)}
    process_id = bound_process(session, "timesheet", customer.id)
    row, run = create_instance(ctx, session, process_id, data, _actor(staff), case_type="timesheet")
    for registration in registrations:
        _link(registration, row.id)
    session.flush()
    run()
    return row.id


def send_hours_for_approval(ctx: Context, customer_id: int, *, staff: StaffMember, period_start: date | str,
                            period_end: date | str, job_id: int | None = None) -> int:
    """Start the timesheet approval bound to the customer for its hours in a period (optionally of one job)
    that are draft or were rejected; returns the instance id.

    :raises NotAllowed: see ensure_may_send. :raises NotFound: a customer outside the staff member's scope.
    :raises InvalidInput: bad period, no such hours, or see _case_data.
    """
    ensure_may_send(staff)
    start, end = _parse_period(period_start, period_end)
    with ctx.uow() as uow:
        session = uow.session
        customer = get_visible_customer(session, staff, customer_id)
        query = (select(Registration).join(Job, Registration.job_id == Job.id)
                 .where(Job.customer_id == customer_id, Registration.kind == RegistrationKind.HOURS,
                        Registration.status.in_(SENDABLE), Registration.work_date.between(start, end))
                 .order_by(Registration.work_date, Registration.id).with_for_update())
        if job_id is not None:
            query = query.where(Job.id == job_id)
        registrations = list(session.scalars(query))
        if not registrations:
            raise InvalidInput(f"period: {customer.name} has no hours to send between {start} and {end}")
        instance_id = _start_timesheet_case(ctx, session, staff, customer, registrations, start, end)
        uow.commit()
        return instance_id


def _release_subjects(session: Session, instance_id: int) -> None:
    """Unlink the job and registrations of a cancelled case: they are drafts again (editable, sendable)."""
    for job in session.scalars(select(Job).where(Job.approval_instance_id == instance_id)):
        job.approval_status, job.approval_instance_id = "draft", None
    for registration in session.scalars(select(Registration).where(
            Registration.approval_instance_id == instance_id, Registration.status != ApprovalStatus.APPROVED)):
        registration.status, registration.approval_instance_id = ApprovalStatus.DRAFT, None
        registration.customer_decision = None


def _visible_case(session: Session, staff: StaffMember, instance_id: int) -> WorkflowInstance:
    """The approval under its row lock, so two resends or cancels of one case run one after the other."""
    row = lock_instance(session, instance_id)
    if row is None or row.case_type not in CASE_TYPES or row.customer_id is None:
        raise NotFound(f"no approval {instance_id}")
    get_visible_customer(session, staff, row.customer_id)
    return row


def _is_live(session: Session, instance_id: int | None) -> bool:
    return instance_id is not None and session.scalar(select(WorkflowInstance.status).where(
        WorkflowInstance.id == instance_id)) in (InstanceStatus.RUNNING, InstanceStatus.ERROR)


def _subjects(session: Session, row: WorkflowInstance) -> tuple[Job | None, list[Registration]]:
    """The case's job (job approvals) or its registrations (timesheets), locked after the instance row (the
    order the customer's decision takes too), wherever they point now."""
    data = row.data or {}
    if row.case_type == "job":
        job_id = data.get("job_id")
        job = session.scalar(select(Job).where(Job.id == job_id).with_for_update()) if isinstance(job_id, int) \
            else None
        return job, []
    ids = [rid for rid in data.get("registration_ids") or [] if isinstance(rid, int)]
    return None, list(session.scalars(select(Registration).where(
        or_(Registration.id.in_(ids), Registration.approval_instance_id == row.id))
        .order_by(Registration.work_date, Registration.id).with_for_update()))


def _successor(session: Session, row: WorkflowInstance, job: Job | None,
               registrations: list[Registration]) -> int | None:
    """Another approval the case's work has moved to since (a resend or a new send), if any."""
    pointers = [job.approval_instance_id] if job is not None else [
        r.approval_instance_id for r in registrations if r.status != ApprovalStatus.APPROVED]
    return next((iid for iid in pointers if iid is not None and iid != row.id), None)


def cancel_approval(ctx: Context, instance_id: int, *, staff: StaffMember, reason: str = "") -> None:
    """Withdraw a running approval: the contact's task disappears and the work goes back to draft.

    :raises NotAllowed: see ensure_may_send. :raises NotFound: an approval outside the staff member's scope.
    :raises InvalidInput: the approval has already ended.
    """
    ensure_may_send(staff)
    with ctx.uow() as uow:
        session = uow.session
        _visible_case(session, staff, instance_id)
        cancel_locked(ctx, session, instance_id, _actor(staff), reason or "withdrawn by staff")
        _release_subjects(session, instance_id)
        uow.commit()


def resend_approval(ctx: Context, instance_id: int, *, staff: StaffMember) -> int:
    """Send the same work again as a new approval (after a rejection, or to restart a running one with the
    current policy); a running approval is cancelled first. Returns the new instance id.

    Idempotent per case: the instance row and then the job or registrations are locked, and a case whose work
    has already moved to another approval (a resend pressed twice, a new send) is refused, naming that one,
    so a job or a timesheet never has two live approvals.

    :raises NotAllowed: see ensure_may_send. :raises NotFound: an approval outside the staff member's scope.
    :raises InvalidInput: already sent again, nothing left to send (all approved), or see _case_data.
    """
    ensure_may_send(staff)
    with ctx.uow() as uow:
        session = uow.session
        row = _visible_case(session, staff, instance_id)
        if row.case_status in APPROVED_CASE:
            raise InvalidInput(f"approval {instance_id} ended approved; there is nothing to send again")
        job, registrations = _subjects(session, row)
        successor = _successor(session, row, job, registrations)
        if successor is not None:
            if _is_live(session, successor):
                raise InvalidInput(f"approval {instance_id} is already under way again as approval {successor}; "
                                   "nothing new was sent")
            raise InvalidInput(f"approval {instance_id} was followed by approval {successor}; resend that one")
        if row.status in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
            cancel_locked(ctx, session, instance_id, _actor(staff), "sent again")
        _release_subjects(session, instance_id)
        if row.case_type == "job":
            if job is None:
                raise InvalidInput("job: the job of this approval no longer exists")
            new_id = start_job_case(ctx, session, staff, job)
        else:
            registrations = [r for r in registrations if r.status in SENDABLE]
            if not registrations:
                raise InvalidInput("registrations: every registration of this approval is already approved")
            start, end = _parse_period(row.data.get("period_start", ""), row.data.get("period_end", ""))
            customer = session.get(Customer, row.customer_id)
            new_id = _start_timesheet_case(ctx, session, staff, customer, registrations, start, end)
        uow.commit()
        return new_id
