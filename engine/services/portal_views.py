"""Read side of the customer portal: home, review tasks with their evidence, and project views.

Every function first checks that the contact acts for `customer_id`, then that each id it is given belongs to
that customer; anything else is NotFound, so a contact never learns that another customer's data exists.
What a contact sees is limited by the company settings and the customer's own "show hours overview" flag.
"""

from collections import defaultdict
from datetime import date, datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.isotime import iso
from engine.models import (
    ApprovalStatus,
    HumanTask,
    HumanTaskStatus,
    InstanceStatus,
    Job,
    Registration,
    StaffUser,
    WorkflowInstance,
)
from engine.services.approval_status import job_statuses
from engine.services.context import Actor, Context
from engine.services.inbox import BY_DEADLINE, urgency
from engine.services.paging import PAGE_SIZE, Page, fetch_page
from engine.services.portal_scope import KIND_SECTIONS, portal_scope, require_section, scope_sections
from engine.services.portal_visits import visits_by_day
from engine.services.work_fields import duration_text, money_text

DECIDABLE = (ApprovalStatus.SUBMITTED, ApprovalStatus.QUERIED)


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
                               .where(Job.customer_id == customer_id, Registration.kind.in_(_visible_kinds(sections)),
                                      Registration.status != ApprovalStatus.DRAFT)
                               .group_by(Registration.job_id, Registration.status))
        for job_id, status, count in rows:
            counts[job_id][status] = count
        tasks = _review_tasks(session, customer_id, ctx.clock(), actor.can_complete("customer", customer_id))
        statuses = job_statuses(session, [job.id for job in jobs])
    return {
        "customer": {"id": customer.id, "name": customer.name},
        "jobs": [{"id": job.id, "name": job.name, "period_start": iso(job.period_start),
                  "period_end": iso(job.period_end), "approval_status": job.approval_status,
                  "approval": statuses[job.id], "counts": counts.get(job.id, {})} for job in jobs],
        "open_tasks": tasks, "sections": sections,
    }


def _review_query(customer_id: int):
    """The customer's open reviews of running instances; only the columns a list shows (no serialized state, and
    of the instance's data only its title: the database extracts it instead of every row's data being decoded)."""
    return (select(HumanTask.id, HumanTask.name, HumanTask.element_id, HumanTask.instance_id, HumanTask.due_at,
                   HumanTask.form, WorkflowInstance.case_type,
                   WorkflowInstance.data["title"].as_string().label("title"))
            .join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
            .where(HumanTask.status == HumanTaskStatus.OPEN, HumanTask.role == "customer",
                   HumanTask.customer_id == customer_id, WorkflowInstance.status == InstanceStatus.RUNNING))


def _review_view(row, now: datetime, may_decide: bool) -> dict:
    """`may_decide`: the contact approves for the customer (else it sees the review read-only, and completing
    it is refused by Actor.can_complete)."""
    return {"id": row.id, "name": row.name, "element_id": row.element_id, "instance_id": row.instance_id,
            "title": row.title or row.name,
            "kind": "Hours" if row.case_type == "timesheet" else "Job",
            "due_at": iso(row.due_at), "urgency": urgency(row.due_at, now), "form": row.form,
            "may_decide": may_decide}


def _review_tasks(session: Session, customer_id: int, now: datetime, may_decide: bool, cursor: str = "",
                  size: int = PAGE_SIZE) -> Page:
    """One page of the customer's open reviews, soonest deadline first (then by id)."""
    rows, after, before = fetch_page(session, _review_query(customer_id), BY_DEADLINE, {"customer": customer_id},
                                     cursor, lambda row: (row.due_at, row.id), size)
    return Page([_review_view(row, now, may_decide) for row in rows], after, before)


def list_review_tasks(ctx: Context, actor: Actor, customer_id: int, cursor: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of the customer's open reviews, soonest deadline first, each with the work under review as
    "evidence" (registrations of the kinds the portal shows; hours with the same employee's visits that day).

    :raises NotFound: a customer the actor does not act for.
    :raises InvalidInput: a cursor that is not a page link of this list.
    """
    with ctx.read() as uow:
        session = uow.session
        sections = scope_sections(session, actor, customer_id)
        tasks = _review_tasks(session, customer_id, ctx.clock(), actor.can_complete("customer", customer_id),
                              cursor, size)
        evidence = _evidence(session, customer_id, [t["instance_id"] for t in tasks], sections, ctx.settings.zone)
    return Page([{**task, "evidence": evidence.get(task["instance_id"], [])} for task in tasks],
                tasks.next_cursor, tasks.prev_cursor)


def get_review_task(ctx: Context, actor: Actor, customer_id: int, task_id: int) -> dict:
    """One open review of the customer with its evidence (for the task page).

    :raises NotFound: another customer's task, or a task that is not open for review.
    """
    with ctx.uow() as uow:
        session = uow.session
        sections = scope_sections(session, actor, customer_id)
        row = session.execute(_review_query(customer_id).where(HumanTask.id == task_id)).first()
        if row is None:
            raise NotFound(f"no task {task_id}")
        task = _review_view(row, ctx.clock(), actor.can_complete("customer", customer_id))
        evidence = _evidence(session, customer_id, [task["instance_id"]], sections, ctx.settings.zone)
    return {**task, "evidence": evidence.get(task["instance_id"], [])}


def _registration_view(row: Registration, employee_name: str) -> dict:
    return {
        "id": row.id, "job_id": row.job_id, "kind": row.kind, "date": iso(row.work_date),
        "employee_id": row.employee_id, "employee_name": employee_name, "start_time": iso(row.start_time),
        "end_time": iso(row.end_time), "minutes": row.minutes, "duration": duration_text(row.minutes),
        "amount_cents": row.amount_cents, "amount": money_text(row.amount_cents), "km": row.distance_km,
        "from_place": row.from_place, "to_place": row.to_place, "description": row.description,
        "status": row.status, "customer_decision": row.customer_decision, "customer_comment": row.customer_comment,
        "has_receipt": bool(row.receipt_file), "approval_instance_id": row.approval_instance_id,
    }


def _evidence(session: Session, customer_id: int, instance_ids: list[int], sections: dict,
              zone: tzinfo) -> dict[int, list]:
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
    visits = visits_by_day(session, customer_id, hours, zone) if hours and sections["visits"] else {}
    result: dict[int, list] = defaultdict(list)
    for row, name in rows:
        view = _registration_view(row, name)
        if row.kind == "hours":
            view["visits"] = visits.get((row.employee_id, row.work_date), [])
        result[row.approval_instance_id].append(view)
    return result


def project_view(ctx: Context, actor: Actor, customer_id: int, job_id: int, kind: str = "hours",
                 date_from: date | None = None, date_to: date | None = None, employee_id: int | None = None,
                 status: str | None = None) -> dict:
    """One job's registrations of one kind, filtered, with totals and which rows the contact may decide now.

    :raises NotFound: another customer's job, an unknown kind, or a kind the portal does not show.
    """
    with ctx.uow() as uow:
        session = uow.session
        sections = scope_sections(session, actor, customer_id)
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
        approval = job_statuses(session, [job.id])[job.id]
    minutes = sum(r["minutes"] or 0 for r in rows)
    cents = sum(r["amount_cents"] or 0 for r in rows)
    return {
        "job": {"id": job.id, "name": job.name, "period_start": iso(job.period_start),
                "period_end": iso(job.period_end), "approval_status": job.approval_status, "approval": approval},
        "kind": kind, "rows": rows, "sections": sections,
        "totals": {"minutes": minutes, "duration": duration_text(minutes), "amount_cents": cents,
                   "amount": money_text(cents), "km": round(sum(r["km"] or 0 for r in rows), 2), "count": len(rows)},
        "employees": [(eid, name) for eid, name in employees],
        "statuses": [str(s) for s in ApprovalStatus if s != ApprovalStatus.DRAFT],
        "decidable_ids": [r["id"] for r in rows if r["id"] in decidable],
    }


def _filters(date_from: date | None, date_to: date | None, employee_id: int | None, status: str | None) -> list:
    """The project view's filters; drafts are the staff's own until sent, so contacts never see them."""
    conditions = [Registration.status != ApprovalStatus.DRAFT]
    if date_from is not None:
        conditions.append(Registration.work_date >= date_from)
    if date_to is not None:
        conditions.append(Registration.work_date <= date_to)
    if employee_id is not None:
        conditions.append(Registration.employee_id == employee_id)
    if status:
        conditions.append(Registration.status == status)
    return conditions
