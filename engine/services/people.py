"""People's names for the actor strings the audit trail holds, and who may complete an open task.

An instance_event's `actor` is whatever the acting surface named: an e-mail address (staff, a portal contact),
"Name address" (a contact by a one-click e-mail link), "Name (staff 12)", "staff: Name" or "cli". A story shows
"Hanna (Harbour View Dental)" for a contact of the case's customer and the staff member's name for staff.
"""

import re
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Contact, Customer, HumanTask, StaffRole, StaffUser
from engine.services.portal_scope import approver_contacts
from engine.services.staff_auth import ACTOR_ROLES
from engine.services.staff_scope import visible_customer
from engine.services.task_offer import RULE_SHORT, broken_rule, previous_completer_of, stand_ins_for_task

_EMAIL = re.compile(r"[^\s<>()]+@[^\s<>()]+")
_STAFF_ID = re.compile(r"\(staff (\d+)\)")
MAX_CANDIDATES = 20  # staff members checked for "who may complete" (a page shows a few names)


class PeopleNames:
    """Resolves the actor strings of one case's events in two queries (contacts of its customer, staff)."""

    def __init__(self, session: Session, customer_id: int | None, actors: Iterable[str | None]):
        actors = [a for a in actors if isinstance(a, str) and a]
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


def _candidates(session: Session, role: str | None, customer_id: int | None) -> list:
    """Rows (id, name, email) of the active staff of this lane role who see the customer (a bounded list)."""
    roles = [staff_role for staff_role, lanes in ACTOR_ROLES.items() if role in lanes]
    candidates = session.execute(select(StaffUser.id, StaffUser.name, StaffUser.email, StaffUser.role).where(
        StaffUser.active.is_(True), StaffUser.role.in_(roles)).order_by(StaffUser.name).limit(MAX_CANDIDATES)).all()
    return [staff for staff in candidates
            if staff.role == StaffRole.ADMIN or customer_id is None or session.scalar(
                select(Customer.id).where(Customer.id == customer_id, visible_customer(staff))) is not None]


def staff_candidates(session: Session, role: str | None, customer_id: int | None) -> list[tuple[int, str]]:
    """(id, name) of the active staff who may complete an open staff- or manager-lane task of this role and
    customer (a bounded list): whom an operator may reassign it to. None for the Customer lane."""
    return [(staff.id, staff.name) for staff in _candidates(session, role, customer_id)]


def reassign_candidates(session: Session, task: HumanTask, today: date) -> list[tuple[int, str]]:
    """staff_candidates, then the holiday cover: who stands in today for someone who could take the task
    ("Mia Jansen (standing in for Max Bakker)"), as operations.reassign_task accepts them."""
    candidates = staff_candidates(session, task.role, task.customer_id)
    seen = {staff_id for staff_id, _name in candidates}
    for cover in stand_ins_for_task(session, task, today, offered=False):
        if cover["id"] not in seen:
            seen.add(cover["id"])
            candidates.append((cover["id"], f"{cover['name']} (standing in for {cover['for_name']})"))
    return candidates


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def may_complete(session: Session, task: HumanTask, today: date, sender_id: int | None) -> tuple[list[str],
                                                                                                 list[str]]:
    """Who may complete an open task (a bounded list of names), and who of its lane may not because of the
    declared separation of duties ("not Eli Visser: sent the work for approval").

    Staff lanes: its assignee, or everyone of the lane who sees the case; then who stands in for one of them
    today ("Mia Jansen (standing in for Max Bakker until 14 Dec)"). Customer lane: the customer's approvers.
    """
    if task.role == "customer":
        if task.customer_id is None:
            return [], []
        customer = session.get(Customer, task.customer_id)
        return [f"{c.name} ({customer.name})" for c in approver_contacts(session, task.customer_id)], []
    if task.assignee_staff_id is not None:
        people = session.execute(select(StaffUser.id, StaffUser.name, StaffUser.email).where(
            StaffUser.id == task.assignee_staff_id)).all()
    else:
        people = _candidates(session, task.role, task.customer_id)
    named = [(staff.id, staff.name, staff.email) for staff in people]
    seen = {staff_id for staff_id, _name, _email in named}
    for cover in stand_ins_for_task(session, task, today):
        if cover["id"] not in seen:
            seen.add(cover["id"])
            named.append((cover["id"], f"{cover['name']} (standing in for {cover['for_name']} until "
                                       f"{_day(cover['until'])})", cover["email"]))
    previous = previous_completer_of(session, task)
    may, may_not = [], []
    for staff_id, label, email in named:
        rule = broken_rule(task.separation, staff_id, email, sender_id, previous)
        (may_not if rule else may).append(f"not {label}: {RULE_SHORT[rule]}" if rule else label)
    return may, may_not
