"""Which customers a staff member may see: admins all, managers their own, employees those they work for.

A manager's own customers are those it is account manager of, or manages a job of. An employee's are those
it is associated with (customer_employee). Every staff service narrows its queries with `visible_customer`,
and every read of tasks and cases with `actor_sees` (the same rule on a case's customer id, for the engine
`Actor`), so an id outside the scope is "not found", exactly as an id that does not exist.
"""

from typing import Protocol

from sqlalchemy import ColumnElement, Select, false, select, true, union
from sqlalchemy.orm import Session, aliased

from engine.errors import NotAllowed, NotFound
from engine.models import Customer, CustomerEmployee, Job, StaffRole
from engine.services.context import Actor

OFFICE_ROLES = frozenset({StaffRole.ADMIN, StaffRole.MANAGER})
# Aliases, so a scope subquery never correlates with the Customer, Job or CustomerEmployee of a query that uses
# it. Made once: an alias is immutable, and building one per query (its column proxies) was most of the CPU of
# an inbox page, which uses the scope several times.
_CUSTOMER, _MANAGED, _EMPLOYEE = aliased(Customer), aliased(Job), aliased(CustomerEmployee)


class StaffMember(Protocol):
    """What services need of the acting staff member (engine.services.staff_auth.StaffView has it)."""

    id: int
    role: str
    name: str


def ensure_office_role(staff: StaffMember) -> None:
    """:raises NotAllowed: unless the staff member is an admin or a manager."""
    if staff.role not in OFFICE_ROLES:
        raise NotAllowed("only admins and managers may manage customers and jobs")


def ensure_admin(staff: StaffMember) -> None:
    """:raises NotAllowed: unless the staff member is an admin."""
    if staff.role != StaffRole.ADMIN:
        raise NotAllowed("only admins may do this")


def _own_customer_ids(staff_id: int, role: str) -> Select:
    """The ids of a manager's or an employee's own customers, as a subquery (of the module's aliases)."""
    if role == StaffRole.MANAGER:
        return union(select(_CUSTOMER.id).where(_CUSTOMER.account_manager_id == staff_id),
                     select(_MANAGED.customer_id).where(_MANAGED.manager_id == staff_id))
    return select(_EMPLOYEE.customer_id).where(_EMPLOYEE.employee_id == staff_id)


def visible_customer(staff: StaffMember) -> ColumnElement[bool]:
    """A WHERE clause on Customer: the customers this staff member may see."""
    if staff.role == StaffRole.ADMIN:
        return true()
    return Customer.id.in_(_own_customer_ids(staff.id, staff.role))


def actor_sees(actor: Actor, customer_id: ColumnElement) -> ColumnElement[bool]:
    """A WHERE clause on a case's customer id (workflow_instance or human_task): within the actor's scope.

    The system (CLI, timers) and admins see every case, cases without a customer too; a manager or an employee
    the cases of its own customers (as visible_customer); anyone else the cases of its `customer_ids`.
    """
    if actor.is_system or actor.staff_role == StaffRole.ADMIN:
        return true()
    if actor.staff_id is not None:
        return customer_id.in_(_own_customer_ids(actor.staff_id, actor.staff_role or ""))
    return customer_id.in_(sorted(actor.customer_ids)) if actor.customer_ids else false()


def get_visible_customer(session: Session, staff: StaffMember, customer_id: int) -> Customer:
    """:raises NotFound: no such customer, or one outside the staff member's scope."""
    customer = session.scalar(select(Customer).where(Customer.id == customer_id, visible_customer(staff)))
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer
