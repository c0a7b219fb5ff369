"""Read-only queries returning plain view dicts (for the CLI, pages and JSON); lists come a page at a time."""

import functools
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Integer, Select, bindparam, distinct, select, union

from engine.errors import NotAllowed, NotFound
from engine.isotime import due_words, iso
from engine.models import (
    Customer,
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    ProcessVersion,
    Timer,
    WorkflowInstance,
)
from engine.services.context import SYSTEM, Actor, Context
from engine.services.paging import PAGE_SIZE, FirstPage, Keyset, Page, fetch_page
from engine.services.staff_scope import actor_sees
from engine.services.task_offer import (
    check_may_complete,
    get_findable_task,
    offered_to,
    offered_to_arms,
    on_behalf_name,
    on_behalf_problem,
    previous_completer,
    separation_problem,
    standing_in_for_columns,
)

DUE_SOON = timedelta(days=2)
BY_ID = Keyset("tasks", (HumanTask.id,), ("int",))
BY_DEADLINE = Keyset("inbox", (HumanTask.due_at, HumanTask.id), ("datetime", "int"), nulls_last=True)


def _task_view(task: HumanTask) -> dict:
    return {
        "id": task.id, "instance_id": task.instance_id, "element_id": task.element_id, "name": task.name,
        "lane": task.lane, "role": task.role, "customer_id": task.customer_id, "created_at": iso(task.created_at),
        "due_at": iso(task.due_at), "form": task.form,
    }


def list_open_tasks(ctx: Context, instance_id: int | None = None, actor: Actor = SYSTEM, cursor: str = "",
                    size: int = PAGE_SIZE) -> Page:
    """One page of the open human tasks of cases in the actor's scope (every one for the system), oldest first,
    optionally of one instance.

    :raises InvalidInput: a cursor that is not a page link of this list.
    """
    query = (select(HumanTask).where(HumanTask.status == HumanTaskStatus.OPEN,
                                     actor_sees(actor, HumanTask.customer_id)))
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    with ctx.read() as uow:
        rows, after, before = fetch_page(uow.session, query, BY_ID, {"instance": instance_id}, cursor,
                                         lambda row: (row[0].id,), size)
        return Page([_task_view(task) for task, in rows], after, before)


def urgency(due_at: datetime | None, now: datetime) -> str:
    """The deadline's urgency: "overdue" when past, "soon" when due within two days, else ""."""
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    return "soon" if due_at - now <= DUE_SOON else ""


def list_inbox(ctx: Context, actor: Actor, process_id: str = "", due: str = "", cursor: str = "",
               size: int = PAGE_SIZE, customer_id: int | None = None) -> Page:
    """One page of the open tasks offered to `actor` (its lanes and customers' cases, unless claimed by someone
    else; its own; those of whom it stands in for: engine.services.task_offer), soonest deadline first (then by
    id), with process id, urgency, the customer's name, the case's title (its job or period) and the deadline in
    words ("due in 2 days"); optionally of one customer. `not_offered` says in words why the declared separation
    of duties keeps the actor from completing one ("" when it does not); `standing_in_for` names whom a task is
    offered to the actor for, when it is offered through a stand-in period only (else "").

    `due` is "" (all), "soon" (overdue or due within two days) or "overdue"; any other value lists all.
    :raises InvalidInput: a cursor that is not a page link of this list with these filters.
    """
    now = ctx.clock()
    due = due if due in ("soon", "overdue") else ""
    query = _inbox_query(_shape(actor), bool(process_id), customer_id is not None, due)
    params = {**_values(actor, now.date()), "process_id": process_id, "customer_id": customer_id,
              "due_before": now + DUE_SOON if due == "soon" else now}
    filters = {"process": process_id, "due": due, "customer": customer_id}
    with ctx.read() as uow:
        rows, after, before = fetch_page(uow.session, query, BY_DEADLINE, filters, cursor,
                                         lambda row: (row[0].due_at, row[0].id), size, params)
    return Page([{**_task_view(task), "process_id": process, "urgency": urgency(task.due_at, now),
                  "customer_name": customer_name or "", "case_title": (data or {}).get("title") or "",
                  "due_words": due_words(task.due_at, now), "assignee_staff_id": task.assignee_staff_id,
                  "not_offered": _not_offered(task, actor, sender, previous, delegator),
                  "standing_in_for": delegator[0] or ""}
                 for task, process, data, customer_name, sender, previous, *delegator in rows], after, before)


# The inbox's statements are built once per shape: what decides their SQL text (the actor's kind, roles and, for a
# contact, customers; which filters are set). The values (the staff member, today, the deadline bound) are bind
# parameters (see _values), so each request only executes. SHAPES bounds the cache (contacts' customer sets).
SHAPES = 256
_STAFF_ID, _TODAY = bindparam("staff_id", type_=Integer), bindparam("today", type_=Date)


def _shape(actor: Actor) -> Actor:
    """The actor as far as it shapes the SQL: its staff id becomes the bind parameter (its name never counts)."""
    return Actor("", roles=actor.roles, customer_ids=actor.customer_ids if actor.staff_id is None else frozenset(),
                 is_system=actor.is_system, staff_id=None if actor.staff_id is None else _STAFF_ID,
                 staff_role=actor.staff_role)


def _values(actor: Actor, today: date) -> dict:
    return {"staff_id": actor.staff_id, "today": today}


@functools.lru_cache(maxsize=SHAPES)
def _inbox_query(actor: Actor, by_process: bool, by_customer: bool, due: str) -> FirstPage:
    query = (select(HumanTask, WorkflowInstance.process_id, WorkflowInstance.data, Customer.name,
                    WorkflowInstance.started_by_staff_id, previous_completer(),
                    *standing_in_for_columns(actor, _TODAY))
             .join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
             .outerjoin(Customer, Customer.id == HumanTask.customer_id)
             .where(HumanTask.status == HumanTaskStatus.OPEN, offered_to(actor, _TODAY)))
    if by_process:
        query = query.where(WorkflowInstance.process_id == bindparam("process_id"))
    if by_customer:
        query = query.where(HumanTask.customer_id == bindparam("customer_id"))
    if due == "overdue":
        query = query.where(HumanTask.due_at < bindparam("due_before"))
    elif due == "soon":
        query = query.where(HumanTask.due_at <= bindparam("due_before"))
    return FirstPage(query, BY_DEADLINE)


@functools.lru_cache(maxsize=SHAPES)
def _customers_query(actor: Actor) -> Select:
    """Each way a task is offered is its own indexed scan (their OR read every open task: 28 ms at 100,000)."""
    with_tasks = union(*[select(HumanTask.customer_id).where(HumanTask.status == HumanTaskStatus.OPEN, arm)
                         for arm in offered_to_arms(actor, _TODAY)])
    return select(Customer.id, Customer.name).where(Customer.id.in_(with_tasks)).order_by(Customer.name, Customer.id)


def _not_offered(task: HumanTask, actor: Actor, sender: int | None, previous: str | None, delegator) -> str:
    """Why the separation of duties keeps the actor, or whom it stands in for, from completing the task."""
    problem = separation_problem(task.separation, actor, sender, previous)
    name, staff_id, email = delegator
    if problem or staff_id is None or not task.separation:
        return problem
    return on_behalf_problem(task.separation, staff_id, email, name, sender, previous)


def list_inbox_customers(ctx: Context, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the customers with open tasks offered to the actor, by name: the inbox's filter."""
    with ctx.read() as uow:
        return [(cid, name) for cid, name in uow.session.execute(_customers_query(_shape(actor)),
                                                                 _values(actor, ctx.clock().date()))]


def list_process_ids(ctx: Context) -> list[str]:
    """Every deployed process id, for filters."""
    with ctx.read() as uow:
        query = select(distinct(ProcessVersion.process_id)).order_by(ProcessVersion.process_id)
        return list(uow.session.scalars(query))


def get_task(ctx: Context, task_id: int, actor: Actor) -> dict:
    """One human task (any status) that `actor` may act on, with its status; `not_offered` says in words why the
    actor may not complete it (assigned to someone else, the separation of duties; "" when it may), and
    `standing_in_for` whom it completes it for (a stand-in period; else "").

    :raises NotFound: unknown id, or a task the actor may not read (engine.services.task_offer.findable_by).
    :raises NotAllowed: the task belongs to another lane.
    """
    today = ctx.clock().date()
    with ctx.read() as uow:
        session = uow.session
        task = get_findable_task(session, actor, task_id, today)
        row = session.get(WorkflowInstance, task.instance_id)
        try:
            on_behalf_of, problem = check_may_complete(session, actor, task, row, today), ""
        except NotAllowed as err:
            on_behalf_of, problem = None, str(err)
        return {**_task_view(task), "status": task.status, "not_offered": problem,
                "standing_in_for": on_behalf_name(on_behalf_of) if on_behalf_of else ""}


def get_instance(ctx: Context, instance_id: int, actor: Actor = SYSTEM) -> dict:
    """Status, variables, open tasks, waiting timers and history of one instance in the actor's scope.

    :raises NotFound: unknown instance id, or a case of a customer outside the actor's scope.
    """
    with ctx.uow() as uow:
        session = uow.session
        row = session.scalar(select(WorkflowInstance).where(
            WorkflowInstance.id == instance_id, actor_sees(actor, WorkflowInstance.customer_id)))
        if row is None:
            raise NotFound(f"no instance {instance_id}")
        version = session.get(ProcessVersion, row.process_version_id)
        tasks = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN))
        timers = session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at))
        events = session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                                 .order_by(InstanceEvent.id))
        return {
            "id": row.id, "process_id": row.process_id, "version": version.version, "status": row.status,
            "case_status": row.case_status, "error": row.error_message, "error_element": row.error_element,
            "data": row.data, "created_at": iso(row.created_at), "ended_at": iso(row.ended_at),
            "open_tasks": [_task_view(task) for task in tasks],
            "timers": [{"id": t.id, "element_id": t.element_id, "kind": t.kind, "due_at": iso(t.due_at)}
                       for t in timers],
            "history": [{"at": iso(e.at), "kind": e.kind, "element_id": e.element_id, "actor": e.actor,
                         "data": e.data} for e in events],
        }
