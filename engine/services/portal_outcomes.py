"""How the portal names things to a contact: an item by what it is ("3 Nov, 8:00 h, skylights"), and a review
that is no longer open by who decided it and when ("Erik already approved this on 2 Dec at 14:05").

Used by the portal's decisions (the result lines, the conflict page) and its history; reads only.
"""

from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound, TaskAlreadyCompleted
from engine.models import Contact, HumanTask, HumanTaskStatus, InstanceEvent, WorkflowInstance
from engine.services.context import Actor, Context
from engine.services.portal_scope import scope_sections
from engine.services.work_fields import duration_text, money_text

DONE_WORDS = {"approve": "approved", "reject": "rejected", "query": "asked a question about"}
RESULT_WORDS = {"approve": "Approved", "reject": "Rejected", "query": "Question sent"}


class AlreadyDecided(TaskAlreadyCompleted):
    """A review someone decided (or a timer closed) before this contact's decision; `outcome` says who and when
    (see closed_outcome)."""

    def __init__(self, outcome: dict):
        super().__init__(outcome["sentence"])
        self.outcome = outcome


def day_text(day: date) -> str:
    """date(2026, 11, 3) -> "3 Nov"."""
    return f"{day.day} {day:%b}"


def moment_text(moment: datetime, zone: tzinfo) -> str:
    """An aware time as "2 Dec at 14:05" in the company's zone."""
    local = moment.astimezone(zone)
    return f"{day_text(local)} at {local:%H:%M}"


def registration_label(kind: str, work_date: date | None, minutes: int | None, amount_cents: int | None,
                       km: float | None, description: str | None) -> str:
    """One registration as a contact knows it: "3 Nov, 8:00 h, skylights" (or "… 12.50, parking", "… 42 km")."""
    parts = [day_text(work_date)] if work_date else []
    if kind == "hours" and minutes is not None:
        parts.append(f"{duration_text(minutes)} h")
    elif kind == "expense" and amount_cents is not None:
        parts.append(money_text(amount_cents))
    elif kind == "mileage" and km is not None:
        parts.append(f"{km:g} km")
    if description:
        parts.append(description)
    return ", ".join(parts) or kind


def review_label(title: str, rows: Iterable[dict]) -> str:
    """A review named by its work: "Window cleaning: 3 Nov, 2:00 h, Windows" for one item, else its title with
    the number of items, their dates and total hours."""
    rows = list(rows)
    if len(rows) == 1:
        row = rows[0]
        return f"{title}: " + registration_label(row["kind"], date.fromisoformat(row["date"]) if row["date"] else None,
                                                 row["minutes"], row["amount_cents"], row["km"], row["description"])
    if not rows:
        return title
    days = sorted(date.fromisoformat(r["date"]) for r in rows if r["date"])
    span = ""
    if days:
        span = day_text(days[0]) if days[0] == days[-1] else f"{day_text(days[0])}–{day_text(days[-1])}"
    minutes = sum(r["minutes"] or 0 for r in rows if r["kind"] == "hours")
    extra = [f"{len(rows)} items", span, f"{duration_text(minutes)} h" if minutes else ""]
    return f"{title} ({', '.join(part for part in extra if part)})"


def who_decided(session: Session, actor: Actor, customer_id: int, decided_by: str | None) -> tuple[str, str]:
    """(who as the sentence's subject, kind: you / colleague / staff / someone)."""
    if not decided_by or decided_by == "system":
        return "Someone at your company", "someone"
    if decided_by == actor.name:
        return "You", "you"
    if decided_by.startswith("staff: "):
        return f"{decided_by.removeprefix('staff: ')} (your supplier's office)", "staff"
    for contact in session.scalars(select(Contact).where(Contact.customer_id == customer_id)):
        if decided_by in (f"{contact.name} {contact.email}".strip(), contact.email):
            return contact.name or contact.email, "colleague"
    return "Someone at your company", "someone"


def describe_closed(session: Session, actor: Actor, customer_id: int, task: HumanTask, zone: tzinfo) -> dict:
    """Who closed the review `task` and when, as data and as one sentence for the contact."""
    title = session.scalar(select(WorkflowInstance.data["title"].as_string())
                           .where(WorkflowInstance.id == task.instance_id)) or task.name
    at = task.completed_at
    if task.status == HumanTaskStatus.CANCELLED or at is None:
        when = f" on {moment_text(at, zone)}" if at else ""
        return {"task_id": task.id, "title": title, "decision": None, "by": None, "who": "closed", "at": at,
                "sentence": f"This approval was closed{when} without a decision here, so it can no longer be "
                            "decided in the portal."}
    event = session.scalar(select(InstanceEvent).where(
        InstanceEvent.instance_id == task.instance_id, InstanceEvent.kind == "task_completed",
        InstanceEvent.element_id == task.element_id, InstanceEvent.at <= at).order_by(InstanceEvent.id.desc()))
    decision = ((event.data or {}).get("decision") if event is not None else None) or ""
    subject, who = who_decided(session, actor, customer_id, task.completed_by)
    verb = DONE_WORDS.get(decision, "decided")
    return {"task_id": task.id, "title": title, "decision": decision or None, "by": subject, "who": who, "at": at,
            "sentence": f"{subject} already {verb} this on {moment_text(at, zone)}."}


def customer_review(session: Session, customer_id: int, task_id: int) -> HumanTask | None:
    """The customer's review task `task_id` in any state (None: not a Customer-lane task of this customer)."""
    return session.scalar(select(HumanTask).where(HumanTask.id == task_id, HumanTask.role == "customer",
                                                  HumanTask.customer_id == customer_id))


def closed_outcome(ctx: Context, actor: Actor, customer_id: int, task_id: int) -> dict:
    """Who decided the customer's review `task_id` and when ({"title", "decision", "by", "who", "at",
    "sentence"}), for a contact whose decision came too late.

    :raises NotFound: not a review of this customer (or the actor does not act for it), or one still open.
    """
    with ctx.read() as uow:
        session = uow.session
        scope_sections(session, actor, customer_id)
        task = customer_review(session, customer_id, task_id)
        if task is None or task.status == HumanTaskStatus.OPEN:
            raise NotFound(f"no decided approval {task_id}")
        return describe_closed(session, actor, customer_id, task, ctx.settings.zone)
