"""A contact's history of its customer's decisions in the portal: who decided what and when, with the comment,
and for a question the thread of answers that followed (today's answers also go out by e-mail).

Keyset paged, newest first; in the portal's scope (portal_scope), so another customer's decisions are not found.
"""

from collections import defaultdict

from sqlalchemy import select

from engine.models import HumanTask, HumanTaskStatus, InstanceEvent, StaffUser, WorkflowInstance
from engine.services.context import Actor, Context
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.portal_outcomes import DONE_WORDS, moment_text, who_decided
from engine.services.portal_scope import scope_sections

HISTORY = Keyset("portal_history", (HumanTask.completed_at, HumanTask.id), ("datetime", "int"), descending=True)
DECISION_WORDS = {"approve": "Approved", "reject": "Rejected", "query": "Asked a question"}


def _thread(events: list[InstanceEvent], after, until) -> list[InstanceEvent]:
    """The answers given in the case after the question (at `after`) and before the next decision (`until`)."""
    return [e for e in events if "answer" in (e.data or {}) and e.at >= after and (until is None or e.at <= until)]


def decision_history(ctx: Context, actor: Actor, customer_id: int, cursor: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of the customer's decided reviews, newest first: {"task_id", "instance_id", "title", "decision",
    "decision_text", "by", "at", "at_text", "comment", "answers": [{"by", "at_text", "text"}]}.

    :raises NotFound: a customer the actor does not act for.
    :raises InvalidInput: a cursor that is not a page link of this list.
    """
    zone = ctx.settings.zone
    query = (select(HumanTask, WorkflowInstance.data["title"].as_string().label("title"))
             .join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
             .where(HumanTask.role == "customer", HumanTask.customer_id == customer_id,
                    HumanTask.status == HumanTaskStatus.COMPLETED, HumanTask.completed_at.is_not(None)))
    with ctx.read() as uow:
        session = uow.session
        scope_sections(session, actor, customer_id)
        rows, after, before = fetch_page(session, query, HISTORY, {"customer": customer_id}, cursor,
                                         lambda row: (row[0].completed_at, row[0].id), size)
        by_instance: dict[int, list[InstanceEvent]] = defaultdict(list)
        instance_ids = sorted({row[0].instance_id for row in rows})
        if instance_ids:
            for event in session.scalars(select(InstanceEvent).where(
                    InstanceEvent.instance_id.in_(instance_ids), InstanceEvent.kind == "task_completed")
                    .order_by(InstanceEvent.at, InstanceEvent.id)):
                by_instance[event.instance_id].append(event)
        answerers = {e.actor for events in by_instance.values() for e in events if "answer" in (e.data or {})}
        staff_names = dict(session.execute(select(StaffUser.email, StaffUser.name)
                                           .where(StaffUser.email.in_(sorted(a for a in answerers if a)))).all())
        names = {by: who_decided(session, actor, customer_id, by)[0] for by in {row[0].completed_by for row in rows}}
        items = [_item(task, title, by_instance[task.instance_id], names, staff_names, zone) for task, title in rows]
    return Page(items, after, before)


def _item(task: HumanTask, title: str | None, events: list[InstanceEvent], names: dict, staff_names: dict,
          zone) -> dict:
    """One decision of the history, with the answers that followed it when it was a question."""
    mine = next((e for e in reversed(events) if e.element_id == task.element_id and e.at <= task.completed_at), None)
    data = (mine.data or {}) if mine else {}
    decision = data.get("decision") or ""
    later = [e.at for e in events if e.at > task.completed_at and "decision" in (e.data or {})]
    answers = _thread(events, task.completed_at, min(later) if later else None) if decision == "query" else []
    return {
        "task_id": task.id, "instance_id": task.instance_id, "title": title or task.name, "decision": decision,
        "decision_text": DECISION_WORDS.get(decision, "Decided"), "verb": DONE_WORDS.get(decision, "decided"),
        "by": names[task.completed_by], "at": task.completed_at.isoformat(),
        "at_text": moment_text(task.completed_at, zone), "comment": data.get("comment") or "",
        "answers": [{"by": staff_names.get(e.actor) or (e.actor or "").removeprefix("staff: "),
                     "at_text": moment_text(e.at, zone), "text": (e.data or {}).get("answer") or ""}
                    for e in answers],
    }
