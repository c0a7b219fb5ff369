"""People's names for the actor strings the audit trail holds, and who may complete an open task.

An instance_event's `actor` is whatever the acting surface named: an e-mail address (staff, a portal contact),
"Name address" (a contact by a one-click e-mail link), "Name (staff 12)", "staff: Name" or "cli". A story shows
"Hanna (Harbour View Dental)" for a contact of the case's customer and the staff member's name for staff.
"""

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Contact, Customer, StaffRole, StaffUser
from engine.services.portal_scope import approver_contacts
from engine.services.staff_auth import ACTOR_ROLES
from engine.services.staff_scope import visible_customer

_EMAIL = re.compile(r"[^\s<>()]+@[^\s<>()]+")
_STAFF_ID = re.compile(r"\(staff (\d+)\)")
MAX_CANDIDATES = 20  # staff members checked for "who may complete" (a page shows a few names)


class PeopleNames:
    """Resolves the actor strings of one case's events in two queries (contacts of its customer, staff)."""

    def __init__(self, session: Session, customer_id: int | None, actors: Iterable[str | None]):
        actors = [a for a in actors if a]
        emails = {m.group(0).lower() for a in actors for m in _EMAIL.finditer(a)}
        staff_ids = {int(m.group(1)) for a in actors for m in _STAFF_ID.finditer(a)}
        self.contacts: dict[str, str] = {}
        if customer_id is not None and emails:
            query = (select(Contact.name, Contact.email, Customer.name)
                     .join(Customer, Customer.id == Contact.customer_id).where(Contact.customer_id == customer_id))
            for name, email, customer in session.execute(query):
                if email and email.lower() in emails:
                    self.contacts[email.lower()] = f"{name} ({customer})"
        self.staff_by_email: dict[str, str] = {}
        self.staff_by_id: dict[int, str] = {}
        if emails or staff_ids:
            for staff_id, name, email in session.execute(select(StaffUser.id, StaffUser.name, StaffUser.email).where(
                    StaffUser.email.in_(sorted(emails)) | StaffUser.id.in_(sorted(staff_ids)))):
                self.staff_by_email[email.lower()] = name
                self.staff_by_id[staff_id] = name

    def name(self, actor: str | None) -> str:
        """The person's name, or the actor string itself when it names no one known."""
        if not actor:
            return "Signoff"
        if actor == "cli":
            return "An operator (command line)"
        if match := _STAFF_ID.search(actor):
            return self.staff_by_id.get(int(match.group(1)), actor)
        if actor.startswith("staff: "):
            return actor.removeprefix("staff: ")
        if match := _EMAIL.search(actor):
            email = match.group(0).lower()
            return self.contacts.get(email) or self.staff_by_email.get(email) or actor
        return actor


def staff_candidates(session: Session, role: str | None, customer_id: int | None) -> list[tuple[int, str]]:
    """(id, name) of the active staff who may complete an open staff- or manager-lane task of this role and
    customer (a bounded list): whom an operator may reassign it to. None for the Customer lane."""
    roles = [staff_role for staff_role, lanes in ACTOR_ROLES.items() if role in lanes]
    candidates = session.execute(select(StaffUser.id, StaffUser.name, StaffUser.role).where(
        StaffUser.active.is_(True), StaffUser.role.in_(roles)).order_by(StaffUser.name).limit(MAX_CANDIDATES)).all()
    return [(staff.id, staff.name) for staff in candidates
            if staff.role == StaffRole.ADMIN or customer_id is None or session.scalar(
                select(Customer.id).where(Customer.id == customer_id, visible_customer(staff))) is not None]


def may_complete(session: Session, role: str | None, customer_id: int | None) -> list[str]:
    """The names of who may complete an open task of this lane role and customer (a bounded list)."""
    if role == "customer":
        if customer_id is None:
            return []
        customer = session.get(Customer, customer_id)
        return [f"{c.name} ({customer.name})" for c in approver_contacts(session, customer_id)]
    return [name for _id, name in staff_candidates(session, role, customer_id)]
