"""To whom an open task is offered: its lane and scope, its assignee, stand-ins, and the separation of duties.

A task nobody claimed is offered to everyone of its lane in whose scope its case is (staff_scope.actor_sees);
a claimed or reassigned one only to its assignee. During a stand-in period (engine.services.delegation) what is
offered to a staff member is offered to its stand-in too, and what the stand-in completes is recorded on behalf
of that staff member. The declared separation of duties (engine.workflow.separation) is checked last: it
does not hide a task from the inbox, it says why the task is not the actor's to complete.
Every condition here is a WHERE clause, so the inbox stays one statement.
"""

from datetime import date

from sqlalchemy import ColumnElement, and_, exists, literal, or_, select, true, union
from sqlalchemy.orm import Session, aliased

from engine.errors import NotAllowed
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


def _active(actor: Actor, today: date):
    """The stand-in periods naming the actor as stand-in today, of active staff."""
    return and_(Delegation.stand_in_id == actor.staff_id, Delegation.starts_on <= today,
                Delegation.ends_on >= today, StaffUser.id == Delegation.staff_id, StaffUser.active.is_(True))


def _delegator_covers() -> ColumnElement[bool]:
    """The delegating StaffUser (of an enclosing query) would be offered the unassigned HumanTask."""
    customer, managed, employee = aliased(Customer), aliased(Job), aliased(CustomerEmployee)
    managers = union(select(customer.id).where(customer.account_manager_id == StaffUser.id),
                     select(managed.customer_id).where(managed.manager_id == StaffUser.id))
    return or_(*[and_(StaffUser.role == role, HumanTask.role.in_(lanes),
                      true() if role == "admin" else HumanTask.customer_id.in_(
                          managers if role == "manager" else
                          select(employee.customer_id).where(employee.employee_id == StaffUser.id)))
                 for role, lanes in LANE_ROLES.items()])


def _through_stand_in(actor: Actor, today: date) -> ColumnElement[bool]:
    """Offered to someone the actor stands in for today (its assignee, or of its lanes and scope)."""
    return exists(select(Delegation.id).where(_active(actor, today), or_(
        HumanTask.assignee_staff_id == Delegation.staff_id,
        and_(HumanTask.assignee_staff_id.is_(None), _delegator_covers()))))


def offered_to(actor: Actor, today: date) -> ColumnElement[bool]:
    """A WHERE clause on HumanTask: offered to the actor (before the separation of duties)."""
    own = and_(HumanTask.role.in_(sorted(actor.roles)), actor_sees(actor, HumanTask.customer_id))
    if actor.is_system or actor.staff_id is None:
        return own
    return or_(and_(HumanTask.assignee_staff_id.is_(None), own), HumanTask.assignee_staff_id == actor.staff_id,
               _through_stand_in(actor, today))


def findable_by(actor: Actor, today: date) -> ColumnElement[bool]:
    """A WHERE clause on HumanTask: the actor may read it (its scope, or through a stand-in period)."""
    sees = actor_sees(actor, HumanTask.customer_id)
    if actor.is_system or actor.staff_id is None:
        return sees
    return or_(sees, _through_stand_in(actor, today))


def previous_completer() -> ColumnElement:
    """Who completed the case's latest completed task other than this HumanTask, as a scalar subquery."""
    prev = aliased(HumanTask)
    return (select(prev.completed_by).where(prev.instance_id == HumanTask.instance_id, prev.id != HumanTask.id,
                                            prev.status == HumanTaskStatus.COMPLETED)
            .order_by(prev.completed_at.desc(), prev.id.desc()).limit(1).correlate(HumanTask)
            .scalar_subquery().label("previous_completer"))


def separation_problem(separation: str | None, actor: Actor, sender_id: int | None,
                       previous_by: str | None) -> str:
    """Why the declared separation of duties keeps `actor` from completing the task, in words; "" if it does not."""
    if not separation or actor.is_system:
        return ""
    for rule in separation.split(","):
        if rule == "sender" and sender_id is not None and sender_id == actor.staff_id:
            return RULE_WORDS[rule]
        if rule == "previous_approver" and previous_by is not None and previous_by == actor.name:
            return RULE_WORDS[rule]
    return ""


def check_may_complete(session: Session, actor: Actor, human: HumanTask, row: Instance, today: date) -> str | None:
    """Whom the actor completes the task for: None (itself), or the name of the staff member it stands in for.

    :raises NotAllowed: another lane, someone else's task, or the separation of duties (in words).
    """
    on_behalf_of = None
    if not actor.is_system:
        if not _offered_directly(session, actor, human):
            on_behalf_of = _stand_in_for(session, actor, human, today)
            if on_behalf_of is None:
                raise NotAllowed(_not_yours(session, actor, human))
        previous = session.scalar(select(previous_completer()).select_from(HumanTask)
                                  .where(HumanTask.id == human.id)) if human.separation else None
        problem = separation_problem(human.separation, actor, row.started_by_staff_id, previous)
        if problem:
            raise NotAllowed(problem)
    return on_behalf_of


def _offered_directly(session: Session, actor: Actor, human: HumanTask) -> bool:
    if actor.staff_id is not None and human.assignee_staff_id is not None:
        return human.assignee_staff_id == actor.staff_id
    if not actor.can_complete(human.role, human.customer_id):
        return False
    if actor.staff_id is None or actor.staff_role == "admin":
        return True  # a contact's customers were checked where the task was read; an admin sees every case
    return session.scalar(select(literal(True)).where(actor_sees(actor, literal(human.customer_id)))) is not None


def _stand_in_for(session: Session, actor: Actor, human: HumanTask, today: date) -> str | None:
    if actor.staff_id is None:
        return None
    found = session.execute(
        select(StaffUser.name, StaffUser.email).select_from(HumanTask).join(Delegation, true())
        .join(StaffUser, StaffUser.id == Delegation.staff_id)
        .where(HumanTask.id == human.id, _active(actor, today), or_(
            HumanTask.assignee_staff_id == Delegation.staff_id,
            and_(HumanTask.assignee_staff_id.is_(None), _delegator_covers())))
        .order_by(Delegation.id).limit(1)).first()
    return f"{found.name} <{found.email}>" if found is not None else None


def _not_yours(session: Session, actor: Actor, human: HumanTask) -> str:
    if human.assignee_staff_id is not None and actor.staff_id is not None:
        assignee = session.get(StaffUser, human.assignee_staff_id)
        return f"task {human.id} is assigned to {assignee.name if assignee else 'someone else'}"
    return f"task {human.id} belongs to another lane ({human.lane})"
