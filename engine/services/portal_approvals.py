"""One review decided from the portal's approvals list: the one-click Approve, a Reject or a question with its
reason, or the task's whole BPMN form when the diagram asks for more (e.g. a PO number).

The result names the item by what it is; a review someone else decided first is AlreadyDecided, saying who
and when, and nothing is applied twice.
"""

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select

from engine.errors import InvalidInput, NotFound, TaskAlreadyCompleted
from engine.models import HumanTask, HumanTaskStatus, Job, Registration
from engine.services.context import Actor, Context
from engine.services.instances import complete_locked, conflicts, form_for_pages
from engine.services.paging import Page
from engine.services.portal_outcomes import (
    RESULT_WORDS,
    AlreadyDecided,
    closed_outcome,
    customer_review,
    day_text,
    describe_closed,
    review_label,
)
from engine.services.portal_scope import scope_sections
from engine.services.work_fields import duration_text, money_text

QUICK_FIELDS = frozenset({"decision", "comment"})  # a form of only these is decided with the one-click buttons


def is_quick_form(form: list[dict]) -> bool:
    """The review can be decided by the one-click buttons (its form asks for a decision and a comment only)."""
    ids = {field["id"] for field in form}
    return "decision" in ids and ids <= QUICK_FIELDS


def posted_values(form: list[dict], posted: Mapping[str, str]) -> dict:
    """The posted values of the form's own fields (an absent checkbox is false); anything else is dropped."""
    values = {}
    for field in form:
        name = field["id"]
        if field["type"] == "boolean":
            values[name] = "true" if posted.get(name) else "false"
        elif name in posted:
            values[name] = (posted.get(name) or "").strip()
    return values


def _require_reason(form: list[dict], values: dict) -> None:
    """A rejection says why, as a question does (the diagram itself may require only the latter)."""
    if values.get("decision") == "reject" and any(f["id"] == "comment" for f in form) and not values.get("comment"):
        raise InvalidInput("invalid form data: comment: say why you reject this")


def _label(session, task: HumanTask, title: str) -> str:
    rows = session.execute(select(Registration.kind, Registration.work_date, Registration.minutes,
                                  Registration.amount_cents, Registration.distance_km, Registration.description)
                           .join(Job, Job.id == Registration.job_id)
                           .where(Registration.approval_instance_id == task.instance_id,
                                  Job.customer_id == task.customer_id)).all()
    return review_label(title, [{"kind": r.kind, "date": r.work_date.isoformat() if r.work_date else None,
                                 "minutes": r.minutes, "amount_cents": r.amount_cents, "km": r.distance_km,
                                 "description": r.description} for r in rows])


def decide_review(ctx: Context, actor: Actor, customer_id: int, task_id: int, posted: Mapping[str, str]) -> dict:
    """Complete the customer's open review `task_id` with the posted values of its own form; returns
    {"task_id", "decision", "label", "message"} ("Approved: Window cleaning: 3 Nov, 2:00 h, Windows").

    :raises NotFound: not a review of this customer, or a customer the actor does not act for.
    :raises AlreadyDecided: someone decided it first, or a timer closed it (who and when in `outcome`).
    :raises NotAllowed: the contact follows the customer's approvals but is not one of its approvers.
    :raises InvalidInput: values the form refuses, or a rejection without a reason; nothing is decided.
    """
    try:
        with ctx.uow() as uow, conflicts():
            session = uow.session
            scope_sections(session, actor, customer_id)
            task = customer_review(session, customer_id, task_id)
            if task is None:
                raise NotFound(f"no approval {task_id}")
            if task.status != HumanTaskStatus.OPEN:
                raise AlreadyDecided(describe_closed(session, actor, customer_id, task, ctx.settings.zone))
            form = form_for_pages(task.form)  # a review without a form: a plain Complete with a comment
            values = posted_values(form, posted)
            _require_reason(form, values)
            row = complete_locked(ctx, session, task_id, values, actor, strict=True)
            label = _label(session, task, (row.data or {}).get("title") or task.name)
            uow.commit()
    except AlreadyDecided:
        raise
    except TaskAlreadyCompleted as err:  # decided while this call waited for the instance's lock
        try:
            outcome = closed_outcome(ctx, actor, customer_id, task_id)
        except NotFound:  # the task is open but its case no longer runs: the engine's own words
            raise err from None
        raise AlreadyDecided(outcome) from err
    decision = values.get("decision", "")
    return {"task_id": task_id, "decision": decision, "label": label,
            "message": f"{RESULT_WORDS.get(decision, 'Done')}: {label}"}


def _totals(rows: list[dict]) -> dict:
    minutes = sum(r["minutes"] or 0 for r in rows if r["kind"] == "hours")
    cents = sum(r["amount_cents"] or 0 for r in rows if r["kind"] == "expense")
    km = round(sum(r["km"] or 0 for r in rows if r["kind"] == "mileage"), 2)
    return {"count": len(rows), "minutes": minutes, "hours": duration_text(minutes) if minutes else "",
            "amount": money_text(cents) if cents else "", "km": f"{km:g}" if km else ""}


def summarize(tasks: Page) -> Page:
    """The approvals list's rows (portal_views.list_review_tasks) with what the compact list shows on top: the
    totals per approval, the name of the item, and whether the one-click buttons decide it."""
    return Page([{**task, "evidence": [{**row, "day": day_text(date.fromisoformat(row["date"])) if row["date"] else ""}
                                       for row in task["evidence"]],
                  "totals": _totals(task["evidence"]), "label": review_label(task["title"], task["evidence"]),
                  "quick": is_quick_form(task["form"])} for task in tasks], tasks.next_cursor, tasks.prev_cursor)
