"""Which customers a staff member may see: admins all, managers their own, employees those they work for.

A manager's own customers are those it is account manager of, or manages a job of. An employee's are those
it is associated with (customer_employee). Every staff service narrows its queries with `visible_customer`,
so an id outside the scope is "not found", exactly as an id that does not exist.
"""

from typing import Protocol

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.errors import NotAllowed, NotFound
from engine.models import Customer, CustomerEmployee, Job, StaffRole

OFFICE_ROLES = frozenset({StaffRole.ADMIN, StaffRole.MANAGER})


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


def visible_customer(staff: StaffMember) -> ColumnElement[bool]:
    """A WHERE clause on Customer: the customers this staff member may see."""
    if staff.role == StaffRole.ADMIN:
        return true()
    if staff.role == StaffRole.MANAGER:
        managed = aliased(Job)  # an alias, so the EXISTS also works inside queries that select Job themselves
        return or_(Customer.account_manager_id == staff.id,
                   exists().where(managed.customer_id == Customer.id, managed.manager_id == staff.id))
    return exists().where(CustomerEmployee.customer_id == Customer.id, CustomerEmployee.employee_id == staff.id)


def get_visible_customer(session: Session, staff: StaffMember, customer_id: int) -> Customer:
    """:raises NotFound: no such customer, or one outside the staff member's scope."""
    customer = session.scalar(select(Customer).where(Customer.id == customer_id, visible_customer(staff)))
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer
