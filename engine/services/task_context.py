"""What a manager needs to act on a task: the case behind it, read-only and in the actor's scope.

For "Answer the customer's question" and "Decide the job the customer did not review": the customer, the job or
the timesheet's period, its registrations with their evidence (visits with check-in/out and photos), the question
with who asked and when, and every earlier round of questions and answers (from the append-only history).
"""

from datetime import date

from sqlalchemy import select

from engine.isotime import iso
from engine.models import Customer, Job, WorkflowInstance
from engine.services.approval_board import conversations
from engine.services.context import Actor, Context
from engine.services.portal_scope import KIND_SECTIONS
from engine.services.portal_views import _evidence
from engine.services.task_offer import get_findable_task
from engine.services.work_fields import duration_text, money_text

# staff see every kind of work and every visit, whatever the portal shows the customer
ALL_SECTIONS = {**{section: True for section in KIND_SECTIONS.values()}, "visits": True}


def _subject(session, data: dict) -> dict:
    """The job (job approvals) or the period (timesheets) the case is about."""
    job_id = data.get("job_id")
    job = session.get(Job, job_id) if isinstance(job_id, int) else None
    if job is not None:
        return {"kind": "job", "job_id": job.id, "name": job.name, "label": f"Job {job.name}",
                "period_start": iso(job.period_start), "period_end": iso(job.period_end)}
    start, end = data.get("period_start"), data.get("period_end")
    if isinstance(start, str) and isinstance(end, str):
        try:
            label = f"Hours {date.fromisoformat(start):%d %b} – {date.fromisoformat(end):%d %b %Y}"
        except ValueError:
            label = f"Hours {start} – {end}"
        return {"kind": "timesheet", "job_id": None, "name": label, "label": label, "period_start": start,
                "period_end": end}
    title = data.get("title") or ""
    return {"kind": "other", "job_id": None, "name": title, "label": title, "period_start": None, "period_end": None}


def _totals(registrations: list[dict]) -> dict:
    minutes = sum(r["minutes"] or 0 for r in registrations)
    cents = sum(r["amount_cents"] or 0 for r in registrations)
    return {"count": len(registrations), "duration": duration_text(minutes) if minutes else "",
            "amount": money_text(cents) if cents else "", "km": round(sum(r["km"] or 0 for r in registrations), 2)}


def get_task_context(ctx: Context, task_id: int, actor: Actor) -> dict:
    """The case behind task `task_id`: customer, subject, registrations with evidence, the open question (the
    latest "query" when the task answers one) and the whole conversation, oldest first.

    :raises NotFound: unknown task, or one the actor may not read (task_offer.findable_by: a stand-in reads it).
    :raises NotAllowed: the task belongs to another lane.
    """
    with ctx.read() as uow:
        session = uow.session
        task = get_findable_task(session, actor, task_id, ctx.clock().date())
        row = session.execute(select(WorkflowInstance.id, WorkflowInstance.data, WorkflowInstance.customer_id,
                                     WorkflowInstance.created_at)
                              .where(WorkflowInstance.id == task.instance_id)).one()
        data = row.data or {}
        customer = session.get(Customer, row.customer_id) if row.customer_id is not None else None
        talk = conversations(session, [row.id]).get(row.id, [])
        evidence = _evidence(session, customer.id, [row.id], ALL_SECTIONS, ctx.settings.zone) \
            if customer is not None else {}
        subject = _subject(session, data)
    registrations = evidence.get(row.id, [])
    asked = [said for said in talk if said["kind"] == "query"]
    question = asked[-1] if asked and task.element_id.startswith("answer") else None
    return {
        "instance_id": row.id, "title": data.get("title") or "", "sent_at": iso(row.created_at),
        "customer": {"id": customer.id, "name": customer.name} if customer is not None else None,
        "subject": subject, "registrations": registrations, "totals": _totals(registrations),
        "question": question, "conversation": [said for said in talk if said is not question],
    }
