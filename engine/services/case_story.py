"""A case's story in the business's words, for its page and `signoff instance show`.

The timeline turns instance_event rows into sentences: element names from the version's parsed spec instead of
ids, people's names instead of e-mail addresses ("Hanna (Harbour View Dental) asked: 'Inside too?' · 2 Dec
14:05"). Lines are "main" (what people and timers did, start and end, errors, operator actions) or "detail"
(the engine's own steps: service and script tasks), so a page can fold the details away. Beside it: the
variables, the open tasks and who may complete them, the timers and when they fire, the error, and the path
taken and the current position (element ids) for the diagram. Only derived rows are read, never the state.
"""

import json
from datetime import date, datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.isotime import iso
from engine.models import Customer, HumanTask, HumanTaskStatus, InstanceEvent, ProcessVersion, Timer, WorkflowInstance
from engine.services.context import SYSTEM, Actor, Context
from engine.services.element_names import element_kinds, element_names
from engine.services.people import PeopleNames, may_complete, reassign_candidates
from engine.services.staff_scope import actor_sees
from engine.services.task_offer import findable_by

QUOTE_CHARS = 200
MAX_EVENTS = 2000  # the newest events a story shows; a case older than that shows its latest part
DETAIL_KINDS = frozenset({"ServiceTask", "ScriptTask", "IntermediateThrowEvent", "IntermediateCatchEvent"})
DECISIONS = {"approve": "approved", "reject": "rejected", "query": "asked"}


def _quote(value) -> str:
    text = str(value).strip().replace("\n", " ")
    return f"'{text[:QUOTE_CHARS]}{'…' if len(text) > QUOTE_CHARS else ''}'"


def _when(moment: datetime, ctx: Context) -> str:
    local = moment.astimezone(ctx.settings.zone)
    return f"{local.day} {local:%b %H:%M}"


def _task_sentence(who: str, name: str, data: dict | None) -> str:
    """What a person did at a user task, from the values they gave."""
    data = data or {}
    decision, comment = data.get("decision"), data.get("comment")
    if decision in DECISIONS:
        said = f": {_quote(comment)}" if comment else ""
        return f"{who} {DECISIONS[decision]}{said}"
    if data.get("answer"):
        return f"{who} answered: {_quote(data['answer'])}"
    return f"{who} completed {name}"


def _sentence(event: InstanceEvent, names: dict[str, str], kinds: dict[str, str], people: PeopleNames
              ) -> tuple[str, str] | None:
    """(level, text) of one event, or None for one the story leaves out."""
    name = names.get(event.element_id or "", event.element_id or "")
    who, data = people.name(event.actor), event.data or {}
    kind = event.kind
    if kind == "instance_started":
        return "main", f"{who} started the case (version {data.get('version', '?')})"
    if kind == "task_ready":
        return "main", f"Waiting at {name}"
    if kind == "task_completed":
        if isinstance(data.get("on_behalf_of"), str):
            who = f"{who}, on behalf of {people.name(data['on_behalf_of'])}"
        return "main", _task_sentence(who, name, data)
    if kind == "task_withdrawn":
        return "detail", f"{name} withdrawn"
    if kind == "timer_fired":
        return "main", name
    if kind == "timer_skipped":
        return "main", f"{name} skipped: missed while no worker ran"
    if kind == "element_completed":
        element_kind = kinds.get(event.element_id or "", "")
        if element_kind == "EndEvent":
            return "main", f"Finished: {name}"
        return ("detail", name) if element_kind in DETAIL_KINDS else None
    if kind == "error":
        return "main", f"Stopped with an error at {name}: {data.get('message', '')}"
    operator = _operator_sentence(kind, who, name, data)
    if operator is not None:
        return "main", operator
    if kind == "instance_migrated":
        return "main", (f"{who} moved the case from version {data.get('from_version')} to "
                        f"{data.get('to_version')}: {_quote(data.get('reason', ''))}")
    if kind == "catch_up_set":
        return "main", f"{who} chose to {data.get('choice')} a missed {name}"
    if kind == "instance_completed":
        return None
    reason = f": {_quote(data['reason'])}" if data.get("reason") else ""  # an event of a module added later
    return "main", f"{who}: {kind.replace('_', ' ')}{' at ' + name if name else ''}{reason}"


def _operator_sentence(kind: str, who: str, name: str, data: dict) -> str | None:
    """An operator action (engine.services.operations) with who and why, or None for another kind of event."""
    reason = f": {_quote(data['reason'])}" if data.get("reason") else ""
    if kind == "task_claimed":
        return f"{who} took {name}"
    if kind == "task_reassigned":
        return f"{who} gave {name} to {data.get('to', 'someone else')}{reason}"
    if kind == "timer_fired_now":
        return f"{who} fired {name} now{reason}"
    if kind == "instance_retried":
        return f"{who} retried the case{reason}"
    if kind == "instance_cancelled":
        return f"{who} cancelled the case{reason}"
    if kind == "variable_set":
        was = f" from {_quote(json.dumps(data.get('old')))}" if data.get("was_set") else ""
        return f"{who} set {data.get('name')}{was} to {_quote(json.dumps(data.get('new')))}{reason}"
    return None


def _merge_outcomes(lines: list[dict]) -> list[dict]:
    """A timer followed at the same moment by the end it led to reads as one line: "Approval period ended:
    job approved automatically"."""
    merged: list[dict] = []
    for line in lines:
        previous = next((m for m in reversed(merged) if m["level"] == "main"), None)
        if (line["kind"] == "element_completed" and line["text"].startswith("Finished: ") and previous
                and previous["kind"] == "timer_fired" and previous["at"] == line["at"]):
            outcome = line["text"].removeprefix("Finished: ")
            previous["text"] += f": {outcome[:1].lower()}{outcome[1:]}"
            continue
        merged.append(line)
    return merged


def _words_per_event(session: Session, row: WorkflowInstance, version: int, events: list[InstanceEvent],
                     current: tuple[dict, dict]) -> list[tuple[dict, dict]]:
    """Per event, the element (names, kinds) of the version the case was on when it happened: a move to another
    version changes them from its event on, so what happened before a move reads in the old version's words."""
    moves = [event for event in events if event.kind == "instance_migrated"]
    if not moves:
        return [current] * len(events)
    words = {version: current}

    def of(number) -> tuple[dict, dict]:
        if number not in words:
            version_id = session.scalar(select(ProcessVersion.id).where(
                ProcessVersion.process_id == row.process_id, ProcessVersion.version == number))
            words[number] = (element_names(session, version_id), element_kinds(session, version_id)) \
                if version_id is not None else current
        return words[number]

    on = (moves[0].data or {}).get("from_version", version)
    per_event = []
    for event in events:
        if event.kind == "instance_migrated":
            on = (event.data or {}).get("to_version", version)
        per_event.append(of(on))
    return per_event


def _timeline(ctx: Context, events: list[InstanceEvent], words: list[tuple[dict, dict]], people: PeopleNames
              ) -> list[dict]:
    lines = []
    for event, (names, kinds) in zip(events, words, strict=True):
        said = _sentence(event, names, kinds, people)
        if said is None:
            continue
        level, text = said
        lines.append({"at": iso(event.at), "when": _when(event.at, ctx), "level": level, "kind": event.kind,
                      "element_id": event.element_id, "text": text, "line": f"{text} · {_when(event.at, ctx)}"})
    return _merge_outcomes(lines)


def _load(session: Session, actor: Actor, instance_id: int, today: date):
    """The case if in the actor's scope, or if one of its tasks is findable by the actor (a stand-in reads the
    cases of what it stands in for), with its newest events, open tasks and timers."""
    findable_task = exists(select(HumanTask.id).where(HumanTask.instance_id == WorkflowInstance.id,
                                                      findable_by(actor, today)))
    row = session.scalar(select(WorkflowInstance).where(
        WorkflowInstance.id == instance_id, or_(actor_sees(actor, WorkflowInstance.customer_id), findable_task)))
    if row is None:
        raise NotFound(f"no instance {instance_id}")
    events = list(session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                                  .order_by(InstanceEvent.id.desc()).limit(MAX_EVENTS)))
    events.reverse()
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.status == HumanTaskStatus.OPEN)
                                 .order_by(HumanTask.id)))
    timers = list(session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)))
    return row, events, tasks, timers


def _task_view(session: Session, task: HumanTask, today: date, sender_id: int | None) -> dict:
    """An open task with who may complete it (stand-ins too), who may not by the separation of duties, and, for
    staff lanes, whom an operator may reassign it to (holiday cover too)."""
    customer_lane = task.role == "customer"
    may, may_not = may_complete(session, task, today, sender_id)
    return {"id": task.id, "element_id": task.element_id, "name": task.name, "lane": task.lane,
            "since": iso(task.created_at), "due_at": iso(task.due_at), "customer_lane": customer_lane,
            "may_complete": may, "may_not_complete": may_not, "assignee_staff_id": task.assignee_staff_id,
            "reassign_to": [] if customer_lane else reassign_candidates(session, task, today)}


def get_case_story(ctx: Context, instance_id: int, actor: Actor = SYSTEM) -> dict:
    """The case's story (see the module docstring) as a plain view dict.

    :raises NotFound: unknown instance, or a case of a customer outside the actor's scope (unless the actor
        stands in today for someone one of its tasks is offered to).
    """
    today = ctx.clock().date()
    with ctx.read() as uow:
        session = uow.session
        row, events, tasks, timers = _load(session, actor, instance_id, today)
        version = session.scalar(select(ProcessVersion.version).where(ProcessVersion.id == row.process_version_id))
        names = element_names(session, row.process_version_id)
        customer_name = session.scalar(select(Customer.name).where(Customer.id == row.customer_id)) \
            if row.customer_id is not None else None
        kinds = element_kinds(session, row.process_version_id)
        people = PeopleNames(session, row.customer_id, [e.actor for e in events] + [
            (e.data or {}).get("on_behalf_of") for e in events if e.kind == "task_completed"])
        open_tasks = [_task_view(session, t, today, row.started_by_staff_id) for t in tasks]
        timeline = _timeline(ctx, events, _words_per_event(session, row, version, events, (names, kinds)), people)
    position = [t["element_id"] for t in open_tasks] + [t.element_id for t in timers]
    if row.error_element:
        position.append(row.error_element)
    return {
        "id": row.id, "process_id": row.process_id, "version": version, "status": row.status,
        "case_status": row.case_status, "customer_id": row.customer_id, "customer_name": customer_name,
        "title": (row.data or {}).get("title"), "created_at": iso(row.created_at),
        "ended_at": iso(row.ended_at), "variables": row.data or {}, "timeline": timeline, "open_tasks": open_tasks,
        "timers": [{"id": t.id, "element_id": t.element_id, "name": names.get(t.element_id, t.element_id),
                    "due_at": iso(t.due_at), "when": _when(t.due_at, ctx)} for t in timers],
        "error": {"element_id": row.error_element, "element_name": names.get(row.error_element or "",
                                                                               row.error_element),
                  "message": row.error_message} if row.status == "error" else None,
        "path": [e.element_id for e in events if e.kind == "element_completed" and e.element_id],
        "position": list(dict.fromkeys(position)),
    }
