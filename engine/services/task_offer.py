"""To whom an open task is offered: its lane and scope, its assignee, stand-ins, and the separation of duties.

A task nobody claimed is offered to everyone of its lane in whose scope its case is (staff_scope.actor_sees);
a claimed or reassigned one only to its assignee. During a stand-in period (engine.services.delegation) what is
offered to a staff member is offered to its stand-in too, and what the stand-in completes is recorded on behalf
of that staff member. The declared separation of duties (engine.workflow.separation) is checked last: it
does not hide a task from the inbox, it says why the task is not the actor's to complete.
Every condition here is a WHERE clause, so the inbox stays one statement.
"""

from datetime import date

from sqlalchemy import ColumnElement, Row, and_, case, exists, literal, null, or_, select, true, union
from sqlalchemy.orm import Session, aliased

from engine.errors import NotAllowed, NotFound
from engine.models import Customer, CustomerEmployee, Delegation, HumanTask, HumanTaskStatus, Job, StaffUser
from engine.models import WorkflowInstance as Instance
from engine.services.context import Actor
from engine.services.staff_scope import actor_sees

# the lane roles a staff role completes (as engine.services.staff_auth.ACTOR_ROLES), for stand-in queries
LANE_ROLES = {"admin": ("manager", "staff"), "manager": ("manager",), "employee": ("staff",)}
RULE_WORDS = {
    "sender": "You sent this work for approval, so someone else must approve it",
    "previous_approver": "You completed the previous step of this case, so someone else must complete this one",
}
ON_BEHALF_WORDS = {"sender": "they sent this work for approval, so someone else must approve it",
                   "previous_approver": "they completed the previous step of this case, so someone else must "
                                        "complete this one"}
RULE_SHORT = {"sender": "sent the work for approval", "previous_approver": "completed the previous step"}
# Made once, not per query (an alias's column proxies are costly to build, and the inbox uses these several
# times a statement): each is used only inside its own subqueries, so no enclosing query correlates with it.
_COVERED, _COVERED_JOB, _COVERED_EMPLOYEE = aliased(Customer), aliased(Job), aliased(CustomerEmployee)
_PREVIOUS, _STANDING_IN = aliased(HumanTask), aliased(Delegation)


def _today(today: date):
    """The stand-in periods running today, of active staff (StaffUser: the staff member who named the stand-in)."""
    return and_(Delegation.starts_on <= today, Delegation.ends_on >= today, StaffUser.id == Delegation.staff_id,
                StaffUser.active.is_(True))


def _active(actor: Actor, today: date):
    """The stand-in periods naming the actor as stand-in today, of active staff."""
    return and_(Delegation.stand_in_id == actor.staff_id, _today(today))


def _offered_to_delegator() -> ColumnElement[bool]:
    """The HumanTask is offered to the delegating StaffUser: its assignee, or unassigned and of its lane and scope."""
    return or_(HumanTask.assignee_staff_id == Delegation.staff_id,
               and_(HumanTask.assignee_staff_id.is_(None), _delegator_covers()))


def _delegator_covers() -> ColumnElement[bool]:
    """The delegating StaffUser (of an enclosing query) would be offered the unassigned HumanTask."""
    customer, managed, employee = _COVERED, _COVERED_JOB, _COVERED_EMPLOYEE
    managers = union(select(customer.id).where(customer.account_manager_id == StaffUser.id),
                     select(managed.customer_id).where(managed.manager_id == StaffUser.id))
    return or_(*[and_(StaffUser.role == role, HumanTask.role.in_(lanes),
                      true() if role == "admin" else HumanTask.customer_id.in_(
                          managers if role == "manager" else
                          select(employee.customer_id).where(employee.employee_id == StaffUser.id)))
                 for role, lanes in LANE_ROLES.items()])


def _through_stand_in(actor: Actor, today: date) -> ColumnElement[bool]:
    """Offered to someone the actor stands in for today (its assignee, or of its lanes and scope).

    The first EXISTS (does the actor stand in for anyone today?) does not depend on the task, so PostgreSQL runs
    it once per statement; only when it holds is the second one run per task (it ran for every open task the
    inbox's other conditions did not already offer: 2 ms of the database's CPU per page at 5,000 open tasks).
    """
    stands_in = exists(select(_STANDING_IN.id).where(
        _STANDING_IN.stand_in_id == actor.staff_id, _STANDING_IN.starts_on <= today, _STANDING_IN.ends_on >= today))
    return and_(stands_in, exists(select(Delegation.id).where(_active(actor, today), _offered_to_delegator())))


def _offered_directly_clause(actor: Actor) -> ColumnElement[bool]:
    """Offered to the actor itself: unassigned and of its lanes and scope, or assigned to it."""
    return or_(*_offered_directly_arms(actor))


def _offered_directly_arms(actor: Actor) -> list[ColumnElement[bool]]:
    own = and_(HumanTask.role.in_(sorted(actor.roles)), actor_sees(actor, HumanTask.customer_id))
    if actor.is_system or actor.staff_id is None:
        return [own]
    return [and_(HumanTask.assignee_staff_id.is_(None), own), HumanTask.assignee_staff_id == actor.staff_id]


def offered_to(actor: Actor, today: date) -> ColumnElement[bool]:
    """A WHERE clause on HumanTask: offered to the actor (before the separation of duties)."""
    return or_(*offered_to_arms(actor, today))


def offered_to_arms(actor: Actor, today: date) -> list[ColumnElement[bool]]:
    """The ways a HumanTask is offered to the actor, one WHERE clause each (offered_to is any of them): a query
    over many tasks may run each as its own indexed scan where their OR has the database read every task."""
    direct = _offered_directly_arms(actor)
    if actor.is_system or actor.staff_id is None:
        return direct
    return [*direct, _through_stand_in(actor, today)]


def standing_in_for_columns(actor: Actor, today: date) -> list[ColumnElement]:
    """Columns for a query on HumanTask: the name, id and e-mail of whom the actor is offered the task for, when it
    is offered through a stand-in period only (NULLs when offered to the actor itself); the id and e-mail are
    what the separation of duties checks for that person."""
    if actor.is_system or actor.staff_id is None:
        return [null().label(label) for label in ("standing_in_for", "delegator_id", "delegator_email")]
    return [_delegator_column(actor, today, column, label) for column, label in (
        (StaffUser.name, "standing_in_for"), (StaffUser.id, "delegator_id"), (StaffUser.email, "delegator_email"))]


def _delegator_column(actor: Actor, today: date, column, label: str) -> ColumnElement:
    value = (select(column).where(_active(actor, today), _offered_to_delegator())
             .order_by(Delegation.id).limit(1).correlate(HumanTask).scalar_subquery())
    return case((_offered_directly_clause(actor), null()), else_=value).label(label)


def findable_by(actor: Actor, today: date) -> ColumnElement[bool]:
    """A WHERE clause on HumanTask: the actor may read it (its scope, assigned to it, or through a stand-in
    period). A holiday cover may be assigned a task of a customer it does not work for (operations)."""
    sees = actor_sees(actor, HumanTask.customer_id)
    if actor.is_system or actor.staff_id is None:
        return sees
    return or_(sees, HumanTask.assignee_staff_id == actor.staff_id, _through_stand_in(actor, today))


def get_findable_task(session: Session, actor: Actor, task_id: int, today: date) -> HumanTask:
    """A human task (any status) the actor may read and act on: see findable_by, and of one of its lanes unless
    it is its own or offered through a stand-in period.

    :raises NotFound: no such task, or one the actor may not read.
    :raises NotAllowed: a task the actor may read but that belongs to another lane.
    """
    task = session.scalar(select(HumanTask).where(HumanTask.id == task_id, findable_by(actor, today)))
    if task is None:
        raise NotFound(f"no task {task_id}")
    if not (actor.can_complete(task.role, task.customer_id) or task.assignee_staff_id == actor.staff_id
            or _stand_in_for(session, actor, task, today) is not None):
        raise NotAllowed(f"task {task_id} belongs to another lane ({task.lane})")
    return task


def stand_ins_for_task(session: Session, human: HumanTask, today: date, offered: bool = True) -> list[dict]:
    """The active staff standing in today for someone who is offered the task (`offered`), or who could take it
    were it unassigned (holiday cover for reassigning), with whom and until when."""
    stand_in = aliased(StaffUser)
    covers = _offered_to_delegator() if offered else _delegator_covers()
    rows = session.execute(
        select(stand_in.id, stand_in.name, stand_in.email, StaffUser.id, StaffUser.name, Delegation.ends_on)
        .select_from(HumanTask).join(Delegation, true()).join(StaffUser, StaffUser.id == Delegation.staff_id)
        .join(stand_in, stand_in.id == Delegation.stand_in_id)
        .where(HumanTask.id == human.id, _today(today), stand_in.active.is_(True), covers)
        .order_by(stand_in.name, Delegation.id)).all()
    return [{"id": sid, "name": name, "email": email, "for_id": for_id, "for_name": for_name, "until": until}
            for sid, name, email, for_id, for_name, until in rows]


def previous_completer() -> ColumnElement:
    """Who completed the case's latest completed task other than this HumanTask, as a scalar subquery."""
    prev = _PREVIOUS
    return (select(prev.completed_by).where(prev.instance_id == HumanTask.instance_id, prev.id != HumanTask.id,
                                            prev.status == HumanTaskStatus.COMPLETED)
            .order_by(prev.completed_at.desc(), prev.id.desc()).limit(1).correlate(HumanTask)
            .scalar_subquery().label("previous_completer"))


def broken_rule(separation: str | None, staff_id: int | None, name: str, sender_id: int | None,
                previous_by: str | None) -> str | None:
    """The declared rule that keeps the person (staff id, actor name) from completing the task, or None."""
    for rule in (separation or "").split(","):
        if rule == "sender" and sender_id is not None and sender_id == staff_id:
            return rule
        if rule == "previous_approver" and previous_by is not None and previous_by == name:
            return rule
    return None


def separation_problem(separation: str | None, actor: Actor, sender_id: int | None,
                       previous_by: str | None) -> str:
    """Why the declared separation of duties keeps `actor` from completing the task, in words; "" if it does not."""
    if actor.is_system:
        return ""
    rule = broken_rule(separation, actor.staff_id, actor.name, sender_id, previous_by)
    return RULE_WORDS[rule] if rule else ""


def previous_completer_of(session: Session, human: HumanTask) -> str | None:
    """Who completed the case's previous step (see previous_completer), read only when a rule needs it."""
    if not human.separation:
        return None
    return session.scalar(select(previous_completer()).select_from(HumanTask).where(HumanTask.id == human.id))


def check_may_complete(session: Session, actor: Actor, human: HumanTask, row: Instance, today: date) -> str | None:
    """Whom the actor completes the task for: None (itself), or the name of the staff member it stands in for.

    :raises NotAllowed: another lane, someone else's task, or the separation of duties (in words).
    """
    on_behalf_of = None
    if not actor.is_system:
        delegator = None
        if not _offered_directly(session, actor, human):
            delegator = _stand_in_for(session, actor, human, today)
            if delegator is None:
                raise NotAllowed(_not_yours(session, actor, human))
            on_behalf_of = f"{delegator.name} <{delegator.email}>"
        previous = previous_completer_of(session, human)
        problem = separation_problem(human.separation, actor, row.started_by_staff_id, previous)
        if problem:
            raise NotAllowed(problem)
        if delegator is not None:
            problem = on_behalf_problem(human.separation, delegator.id, delegator.email, delegator.name,
                                        row.started_by_staff_id, previous)
            if problem:
                raise NotAllowed(problem)
    return on_behalf_of


def on_behalf_problem(separation: str | None, staff_id: int, email: str, name: str, sender_id: int | None,
                      previous_by: str | None) -> str:
    """Why a stand-in may not complete the task for staff member `name`, in words ("" if it may): acting for
    someone the rules exclude is that person acting."""
    rule = broken_rule(separation, staff_id, email, sender_id, previous_by)
    return f"You would act on behalf of {name}: {ON_BEHALF_WORDS[rule]}" if rule else ""


def _offered_directly(session: Session, actor: Actor, human: HumanTask) -> bool:
    if actor.staff_id is not None and human.assignee_staff_id is not None:
        return human.assignee_staff_id == actor.staff_id
    if not actor.can_complete(human.role, human.customer_id):
        return False
    if actor.staff_id is None or actor.staff_role == "admin":
        return True  # a contact's customers were checked where the task was read; an admin sees every case
    return session.scalar(select(literal(True)).where(actor_sees(actor, literal(human.customer_id)))) is not None


def _stand_in_for(session: Session, actor: Actor, human: HumanTask, today: date) -> Row | None:
    """The staff member (id, name, email) the actor stands in for today who is offered the task, or None."""
    if actor.staff_id is None:
        return None
    return session.execute(
        select(StaffUser.id, StaffUser.name, StaffUser.email).select_from(HumanTask).join(Delegation, true())
        .join(StaffUser, StaffUser.id == Delegation.staff_id)
        .where(HumanTask.id == human.id, _active(actor, today), _offered_to_delegator())
        .order_by(Delegation.id).limit(1)).first()


def on_behalf_name(on_behalf_of: str) -> str:
    """The name in an on-behalf-of label ("Max Bakker <max@example.com>", as check_may_complete gives it)."""
    return on_behalf_of.rpartition(" <")[0] or on_behalf_of


def _not_yours(session: Session, actor: Actor, human: HumanTask) -> str:
    if human.assignee_staff_id is not None and actor.staff_id is not None:
        assignee = session.get(StaffUser, human.assignee_staff_id)
        return f"task {human.id} is assigned to {assignee.name if assignee else 'someone else'}"
    return f"task {human.id} belongs to another lane ({human.lane})"
