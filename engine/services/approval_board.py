"""Read side of the Customer Approval screen: everything under approval, and what can be sent.

Every list is narrowed to the customers the staff member may see; the board comes a page at a time.
"""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.isotime import iso, month_of
from engine.models import (
    Customer,
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    InstanceStatus,
    Job,
    Registration,
    RegistrationKind,
    WorkflowInstance,
)
from engine.services.approval_status import STATUS_LABELS, display_status, job_statuses
from engine.services.approvals import ACTIVE_CASE, APPROVED_CASE, SENDABLE
from engine.services.bindings import CASE_TYPES
from engine.services.context import Context
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.staff_scope import StaffMember, visible_customer

APPROVAL_CASE_TYPES = tuple(CASE_TYPES)  # the board lists cases by case type, whichever process runs them


def _time_left(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return ""
    seconds = int((due_at - now).total_seconds())
    if seconds <= 0:
        return "overdue"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


BOARD = Keyset("approvals", (WorkflowInstance.created_at, WorkflowInstance.id), ("datetime", "int"), descending=True)
BOARD_COLUMNS = (WorkflowInstance.id, WorkflowInstance.process_id, WorkflowInstance.case_type, WorkflowInstance.status,
                 WorkflowInstance.case_status, WorkflowInstance.customer_id, WorkflowInstance.data,
                 WorkflowInstance.created_at, WorkflowInstance.ended_at)  # never the serialized state


def list_approvals(ctx: Context, *, staff: StaffMember, status: str = "", customer_id: int | None = None,
                   cursor: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of approvals, newest first (then by id), with the customer, the customer's open review
    (deadline, time left), the manager's open task (answer a query, decide an escalation) and the customer's
    last comment.

    The page's ids are found first, on a covering index (the instance row is wide: its serialized state); then
    its columns, tasks and verdicts are read for those ids only.
    :raises InvalidInput: a cursor that is not a page link of this list with these filters.
    """
    query = (select(WorkflowInstance.id, WorkflowInstance.created_at)
             .join(Customer, Customer.id == WorkflowInstance.customer_id)
             .where(WorkflowInstance.case_type.in_(APPROVAL_CASE_TYPES), visible_customer(staff)))
    if customer_id is not None:
        query = query.where(WorkflowInstance.customer_id == customer_id)
    if status in ("cancelled", "error"):
        query = query.where(WorkflowInstance.status == status)
    elif status:
        query = query.where(WorkflowInstance.case_status == status,
                            WorkflowInstance.status.not_in((InstanceStatus.CANCELLED, InstanceStatus.ERROR)))
    now = ctx.clock()
    with ctx.read() as uow:
        keys, after, before = fetch_page(uow.session, query, BOARD, {"status": status, "customer": customer_id},
                                         cursor, lambda row: (row.created_at, row.id), size)
        ids = [key.id for key in keys]
        found = {row.id: row for row in uow.session.execute(_page_rows(ids))} if ids else {}
        talks = conversations(uow.session, ids)
    return Page([{**_approval_view(found[iid], now), "conversation": talks.get(iid, [])} for iid in ids],
                after, before)


def _open_task(role: str, column):
    """The first open task of `role` of the row's instance (a correlated subquery: one index lookup per row)."""
    return (select(func.min(column)).where(HumanTask.instance_id == WorkflowInstance.id,
                                           HumanTask.status == HumanTaskStatus.OPEN, HumanTask.role == role)
            .scalar_subquery())


def _verdicts(decision: str | None):
    """How many linked registrations the contact decided `decision` (None: how many are linked at all)."""
    counted = Registration.id if decision is None else case((Registration.customer_decision == decision, 1))
    return (select(func.count(counted)).where(Registration.approval_instance_id == WorkflowInstance.id)
            .scalar_subquery())


def _page_rows(ids: list[int]):
    """A page's rows with their customer, open tasks and verdicts, in one statement (one round trip)."""
    return (select(*BOARD_COLUMNS, Customer.name.label("customer_name"),
                   _open_task("customer", HumanTask.due_at).label("due_at"),
                   _open_task("manager", HumanTask.id).label("task_id"),
                   _open_task("manager", HumanTask.name).label("task_name"),
                   _verdicts(None).label("total"), _verdicts("approve").label("approved"),
                   _verdicts("reject").label("rejected"))
            .join(Customer, Customer.id == WorkflowInstance.customer_id).where(WorkflowInstance.id.in_(ids)))


def conversations(session: Session, instance_ids: list[int]) -> dict[int, list[dict]]:
    """Per case, every comment and answer given in its tasks, oldest first, from the append-only history: each
    round of question and answer stays, whatever the process variables say now."""
    if not instance_ids:
        return {}
    events = session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id.in_(instance_ids), InstanceEvent.kind == "task_completed")
        .order_by(InstanceEvent.at, InstanceEvent.id))
    result: dict[int, list[dict]] = defaultdict(list)
    for event in events:
        data = event.data or {}
        for key, kind in (("comment", data.get("decision") or "comment"), ("answer", "answer")):
            text = data.get(key)
            if isinstance(text, str) and text.strip():
                result[event.instance_id].append({"kind": kind, "text": text, "by": event.actor, "at": iso(event.at)})
    return result


def _approval_view(row, now: datetime) -> dict:
    """`row.total`, `.approved`, `.rejected`: how many linked registrations there are, and how many the contact
    has approved or rejected one by one."""
    data = row.data or {}
    shown = display_status(row.status, row.case_status)
    return {
        "id": row.id, "process_id": row.process_id,
        "kind": "Job" if row.case_type == "job" else "Hours",
        "title": data.get("title") or f"Approval {row.id}", "customer_id": row.customer_id,
        "customer_name": row.customer_name, "status": shown, "status_label": STATUS_LABELS.get(shown, shown),
        "instance_status": row.status, "comment": data.get("comment") or "", "answer": data.get("answer") or "",
        "sent_at": iso(row.created_at), "ended_at": iso(row.ended_at), "due_at": iso(row.due_at),
        "time_left": _time_left(row.due_at, now) if row.status == InstanceStatus.RUNNING else "",
        "paused": row.case_status == "queried" and row.status == InstanceStatus.RUNNING,
        "manager_task_id": row.task_id, "manager_task_name": row.task_name,
        "can_cancel": row.status in (InstanceStatus.RUNNING, InstanceStatus.ERROR),
        "can_resend": row.case_status not in APPROVED_CASE,
        "verdicts": {"total": row.total, "approved": row.approved, "rejected": row.rejected},
    }


def list_sendable_jobs(ctx: Context, *, staff: StaffMember) -> list[dict]:
    """Jobs that require customer approval, are not under approval now and, once approved, have new work;
    with their unsent work counted."""
    unsent = (select(Registration.job_id, func.count(Registration.id).label("n"),
                     func.sum(Registration.minutes).label("minutes"))
              .where(Registration.status.in_(SENDABLE)).group_by(Registration.job_id).subquery())
    query = (select(Job, Customer.name, unsent.c.n, unsent.c.minutes)
             .join(Customer, Customer.id == Job.customer_id)
             .outerjoin(unsent, unsent.c.job_id == Job.id)
             .where(visible_customer(staff), Customer.archived.is_(False), Job.requires_customer_approval.is_(True),
                    Job.approval_status.not_in((*ACTIVE_CASE, "submitted")),
                    or_(Job.approval_status.not_in(APPROVED_CASE), unsent.c.n > 0))
             .order_by(func.lower(Customer.name), func.lower(Job.name)))
    with ctx.uow() as uow:
        rows = uow.session.execute(query).all()
        statuses = job_statuses(uow.session, [job.id for job, *_ in rows])
    return [{"id": job.id, "name": job.name, "customer_id": job.customer_id, "customer_name": customer_name,
             "approval_status": job.approval_status, "approval": statuses[job.id], "unsent_count": count or 0,
             "unsent_minutes": minutes or 0}
            for job, customer_name, count, minutes in rows]


def list_unsent_hours(ctx: Context, *, staff: StaffMember, date_from: date | None = None,
                      date_to: date | None = None) -> list[dict]:
    """Per customer: how many hour registrations (and minutes) in the period are draft or rejected."""
    conditions = [Registration.kind == RegistrationKind.HOURS, Registration.status.in_(SENDABLE)]
    if date_from is not None:
        conditions.append(Registration.work_date >= date_from)
    if date_to is not None:
        conditions.append(Registration.work_date <= date_to)
    query = (select(Customer.id, Customer.name, func.count(Registration.id), func.sum(Registration.minutes),
                    func.min(Registration.work_date), func.max(Registration.work_date))
             .join(Job, Job.customer_id == Customer.id).join(Registration, and_(Registration.job_id == Job.id,
                                                                                 *conditions))
             .where(visible_customer(staff), Customer.archived.is_(False))
             .group_by(Customer.id, Customer.name).order_by(func.lower(Customer.name)))
    with ctx.uow() as uow:
        rows = uow.session.execute(query).all()
    return [{"customer_id": cid, "customer_name": name, "count": count, "minutes": minutes or 0,
             "first": iso(first), "last": iso(last)} for cid, name, count, minutes, first, last in rows]




def approval_names(ctx: Context, *, staff: StaffMember, instance_ids: list[int]) -> dict[int, str]:
    """Each approval in the staff member's scope named by what it is, for result messages ("Window cleaning,
    Mill House"; "Hours 01 Nov – 30 Nov 2026, Mill House"); ids outside the scope are left out."""
    if not instance_ids:
        return {}
    query = (select(WorkflowInstance.id, WorkflowInstance.data, Customer.name)
             .join(Customer, Customer.id == WorkflowInstance.customer_id)
             .where(WorkflowInstance.id.in_(instance_ids), visible_customer(staff)))
    with ctx.read() as uow:
        rows = uow.session.execute(query).all()
    return {iid: ", ".join(part for part in ((data or {}).get("title"), name) if part) for iid, data, name in rows}


def unsent_hours_month(ctx: Context, *, staff: StaffMember, today: date) -> tuple[date, date]:
    """The month "Send hours of a period" opens on: this month when it has unsent hours in the staff member's
    scope, else the latest month before that has some (on the 1st the work is in last month), else this month."""
    first, last = month_of(today)
    query = (select(func.max(Registration.work_date)).join(Job, Job.id == Registration.job_id)
             .join(Customer, Customer.id == Job.customer_id)
             .where(Registration.kind == RegistrationKind.HOURS, Registration.status.in_(SENDABLE),
                    Registration.work_date <= last, visible_customer(staff), Customer.archived.is_(False)))
    with ctx.read() as uow:
        latest = uow.session.scalar(query)
    return month_of(latest) if latest is not None else (first, last)
