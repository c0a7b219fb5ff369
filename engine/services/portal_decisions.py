"""What a customer's contact decides in the portal: many review tasks at once, or single registrations.

A bulk decision is all-or-nothing per selected item, not for the whole selection: each task is decided in its
own transaction, and an item someone else decided first is reported, never applied twice. On PostgreSQL the
items are decided on a few connections at once (an item mostly waits on the server there). Registrations are
decided one by one inside their running approval; a verdict once given changes only when the contact picks that
registration for a change. Once every registration of it has a verdict, its review task is completed in the same
transaction (approve when all were approved, else reject).
"""

from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from engine.errors import InvalidInput, NotAllowed, NotFound, SignoffError, TaskAlreadyCompleted
from engine.models import (
    ApprovalStatus,
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    Job,
    Registration,
    WorkflowInstance,
)
from engine.services.context import Actor, Context
from engine.services.instances import complete_locked, conflicts, lock_instance
from engine.services.portal_outcomes import describe_closed, registration_label
from engine.workflow.forms import validate_form

DECISIONS = ("approve", "reject", "query")
PAST = {"approve": "approved", "reject": "rejected", "query": "queried"}
VERDICTS = ("approve", "reject")
COMMENT_MAX = 2000
# what names a registration in a result line ("3 Nov, 8:00 h, skylights"): portal_outcomes.registration_label
LABEL_COLUMNS = (Registration.kind, Registration.work_date, Registration.minutes, Registration.amount_cents,
                 Registration.distance_km, Registration.description)
# items decided at once on PostgreSQL, each on its own connection (of the engine's pool, default 5 + 10 overflow)
PARALLEL_ITEMS = 4


def _check(decision: str, comment: str, allowed: tuple[str, ...]) -> str:
    comment = (comment or "").strip()
    problems = []
    if decision not in allowed:
        problems.append(f"decision: must be one of {', '.join(allowed)}")
    if len(comment) > COMMENT_MAX:
        problems.append(f"comment: at most {COMMENT_MAX} characters")
    if problems:
        raise InvalidInput("; ".join(problems))
    return comment


def _form_data(form: list[dict], decision: str, comment: str) -> dict:
    """Only the fields the task's own form declares; a form without a decision field cannot be bulk-decided."""
    ids = {field["id"] for field in form}
    if "decision" not in ids:
        raise InvalidInput("this task has no decision field; open it to complete its form")
    return {"decision": decision, **({"comment": comment} if "comment" in ids and comment else {})}


@dataclass(frozen=True)
class _Item:
    """A selected task the actor may complete, and the title that tells the contact which item it was."""

    task: HumanTask
    title: str


def decide_tasks(ctx: Context, actor: Actor, task_ids: list[int], decision: str, comment: str = "") -> list[dict]:
    """Approve, reject or query several Customer-lane tasks; returns one result per task id
    ({"task_id", "title", "ok", "message"}).

    Order of operations: one read of every selected task with its case title (the actor's scope checked on
    it), then every form checked against the data, then each task decided in its own transaction.

    :raises InvalidInput: an unknown decision, or data one of the tasks' forms refuses, e.g. a query without a
        comment (then nothing is decided).
    """
    comment = _check(decision, comment, DECISIONS)
    task_ids = list(dict.fromkeys(task_ids))
    selected = _read_selection(ctx, actor, task_ids)
    _check_forms([item.task.form for item in selected.values()], decision, comment)
    results = _decide_all(ctx, actor, list(selected.values()), decision, comment)
    return [results.get(task_id) or {"task_id": task_id, "title": "", "ok": False, "message": "not found"}
            for task_id in task_ids]


def _decide_all(ctx: Context, actor: Actor, items: list[_Item], decision: str, comment: str) -> dict[int, dict]:
    """Each item in its own transaction; on PostgreSQL several instances at once (row locks keep one winner per
    task), the tasks of one instance always one after the other in the selection's order, as on SQLite (one
    writer at a time there, so nothing to gain from more)."""
    by_instance: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        by_instance[item.task.instance_id].append(item)

    def decide_group(group: list[_Item]) -> list[dict]:
        return [_decide_task(ctx, actor, item, decision, comment) for item in group]

    if not ctx.is_postgres or len(by_instance) < 2:
        return {r["task_id"]: r for group in by_instance.values() for r in decide_group(group)}
    with ThreadPoolExecutor(min(PARALLEL_ITEMS, len(by_instance))) as pool:
        return {r["task_id"]: r for results in pool.map(decide_group, by_instance.values()) for r in results}


def _read_selection(ctx: Context, actor: Actor, task_ids: list[int]) -> dict[int, _Item]:
    """The selected tasks the actor may complete, with their case titles, in one query (ids not in it are
    reported "not found"; completing checks the scope again under the lock)."""
    title = WorkflowInstance.data["title"].as_string()
    query = (select(HumanTask, title).join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
             .where(HumanTask.id.in_(task_ids)))
    with ctx.uow() as uow:
        rows = uow.session.execute(query).all()
    return {task.id: _Item(task, name or task.name) for task, name in rows
            if actor.can_complete(task.role, task.customer_id)}


def _check_forms(forms: list[list[dict]], decision: str, comment: str) -> None:
    """Check the data against each selected task's own form first, so a refusal decides none of them (the
    completion checks it again under the lock); a form without a decision field is that item's own result."""
    problems = []
    for form in forms:
        if not any(field["id"] == "decision" for field in form):
            continue
        try:
            validate_form(form, _form_data(form, decision, comment))
        except InvalidInput as err:
            problems.append(str(err))
    if problems:
        raise InvalidInput("; ".join(dict.fromkeys(problems)))


def _decide_task(ctx: Context, actor: Actor, item: _Item, decision: str, comment: str) -> dict:
    """One item of a bulk decision, in its own transaction."""
    task_id = item.task.id
    try:
        with ctx.uow() as uow, conflicts():
            complete_locked(ctx, uow.session, task_id, _form_data(item.task.form, decision, comment), actor)
            uow.commit()
        return {"task_id": task_id, "title": item.title, "ok": True, "message": PAST[decision]}
    except TaskAlreadyCompleted as err:
        message = _closed_sentence(ctx, actor, item.task) or f"already decided: {err}"
    except (NotFound, NotAllowed):
        message = "not found"
    except SignoffError as err:
        message = str(err)
    return {"task_id": task_id, "title": item.title, "ok": False, "message": message}


def _closed_sentence(ctx: Context, actor: Actor, task: HumanTask) -> str:
    """Who decided the task first and when ("Erik already approved this on 2 Dec at 14:05"); "" if still open."""
    with ctx.read() as uow:
        fresh = uow.session.get(HumanTask, task.id)
        if fresh is None or fresh.status == HumanTaskStatus.OPEN or fresh.customer_id is None:
            return ""
        return describe_closed(uow.session, actor, fresh.customer_id, fresh, ctx.settings.zone)["sentence"]


def decide_registrations(ctx: Context, actor: Actor, customer_id: int, registration_ids: list[int], verdict: str,
                         comment: str = "", job_id: int | None = None,
                         change_ids: Collection[int] = ()) -> list[dict]:
    """Approve or reject single registrations of `customer_id` (and of `job_id` when given) that are under
    review; returns one result per registration id ({"registration_id", "ok", "message"}).

    A registration the contact has already given a verdict keeps it unless its id is also in `change_ids` (the
    contact chose to change that one), so "select all" never overwrites earlier verdicts or their comments.
    Every verdict, and every change with the old and the new verdict and comment, is an instance event.

    :raises InvalidInput: an unknown verdict or an overlong comment (then nothing is decided).
    :raises NotFound: a customer the actor does not act for, or a `job_id` that is not the customer's.
    """
    comment = _check(verdict, comment, VERDICTS)
    if customer_id not in actor.customer_ids and not actor.is_system:
        raise NotFound(f"no customer {customer_id}")
    wanted = list(dict.fromkeys(registration_ids))
    query = (select(Registration.id, Registration.approval_instance_id, *LABEL_COLUMNS)
             .join(Job, Job.id == Registration.job_id)
             .where(Registration.id.in_(wanted), Job.customer_id == customer_id))
    if job_id is not None:
        query = query.where(Job.id == job_id)
    with ctx.uow() as uow:
        if job_id is not None and uow.session.scalar(
                select(Job.id).where(Job.id == job_id, Job.customer_id == customer_id)) is None:
            raise NotFound(f"no job {job_id}")
        rows = uow.session.execute(query).all()
    by_instance: dict[int, list[int]] = defaultdict(list)
    results = {rid: {"registration_id": rid, "ok": False, "message": "not found"} for rid in wanted}
    titles = {row.id: registration_label(*row[2:]) for row in rows}
    for rid, instance_id, *_ in rows:
        if instance_id is None:
            results[rid]["message"] = "not under approval"
        else:
            by_instance[instance_id].append(rid)
    for instance_id, ids in by_instance.items():
        outcome = _decide_in_instance(ctx, actor, instance_id, ids, Verdict(verdict, comment, frozenset(change_ids)))
        for rid in ids:
            results[rid] = {"registration_id": rid, **outcome.get(rid, {"ok": True, "message": PAST[verdict]})}
    return [{**results[rid], "title": titles.get(rid, "")} for rid in wanted]


@dataclass(frozen=True)
class Verdict:
    """What the contact decided for the selected registrations, and which earlier verdicts it chose to change."""

    decision: str
    comment: str
    change_ids: frozenset[int]


def _decide_in_instance(ctx: Context, actor: Actor, instance_id: int, ids: list[int],
                        verdict: Verdict) -> dict[int, dict]:
    """Record the verdicts under the instance's lock; complete the review when nothing is left undecided."""
    try:
        with ctx.uow() as uow:
            session = uow.session
            lock_instance(session, instance_id)
            review = session.scalar(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN,
                HumanTask.role == "customer"))
            if review is None or not actor.can_complete(review.role, review.customer_id):
                return {rid: {"ok": False, "message": "not open for your review now"} for rid in ids}
            linked = list(session.scalars(select(Registration).where(
                Registration.approval_instance_id == instance_id)))
            skipped = {}
            for registration in linked:
                if registration.id in ids:
                    problem = _apply(session, ctx, actor, review, registration, verdict)
                    if problem:
                        skipped[registration.id] = {"ok": False, "message": problem}
            if all(r.customer_decision for r in linked):
                _complete_review(ctx, session, review, linked, actor)
            with conflicts():
                uow.commit()
            return skipped
    except (TaskAlreadyCompleted, SignoffError) as err:
        return {rid: {"ok": False, "message": str(err)} for rid in ids}


def _apply(session, ctx: Context, actor: Actor, review: HumanTask, registration: Registration,
           verdict: Verdict) -> str | None:
    """Give one registration the verdict (with an event), or say why not; None when it was given."""
    if registration.status not in (ApprovalStatus.SUBMITTED, ApprovalStatus.QUERIED):
        return f"already {registration.status}"
    before = registration.customer_decision, registration.customer_comment
    if before[0] and registration.id not in verdict.change_ids:
        return f"kept your earlier verdict ({PAST[before[0]]}); choose Change on its row to change it"
    registration.customer_decision = verdict.decision
    registration.customer_comment = verdict.comment or None
    data = {"registration_id": registration.id, "decision": verdict.decision, "comment": verdict.comment or None}
    if before[0]:
        data |= {"previous_decision": before[0], "previous_comment": before[1]}
    session.add(InstanceEvent(instance_id=review.instance_id, at=ctx.clock(), element_id=review.element_id,
                              kind="registration_verdict_changed" if before[0] else "registration_decided",
                              actor=actor.name, data=data))
    return None


def _complete_review(ctx: Context, session, review: HumanTask, linked: list[Registration], actor: Actor) -> None:
    rejected = [r for r in linked if r.customer_decision == "reject"]
    decision = "reject" if rejected else "approve"
    comment = (f"{len(rejected)} of {len(linked)} registrations rejected"
               + "".join(f"; #{r.id}: {r.customer_comment}" for r in rejected if r.customer_comment)
               if rejected else "every registration approved")
    complete_locked(ctx, session, review.id, _form_data(review.form, decision, comment), actor)
