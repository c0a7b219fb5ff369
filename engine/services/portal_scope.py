"""Who may see what in the customer portal: the contact's customer and the sections the settings allow; and who
of a customer's contacts approves.

Every portal read starts here, so an id of another customer, or a hidden section, is simply not found. A
customer may name its approver contacts; when it names none, every contact with an e-mail address (the portal
login) approves. Only approvers decide the customer's review tasks (the Actor's `decides_for`, checked by
`Actor.can_complete` wherever a task is completed); the others see the cases read-only.
"""

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.errors import NotFound
from engine.models import CompanySettings, Contact, Customer
from engine.services.company_settings import PORTAL_FLAGS, SETTINGS_ID
from engine.services.context import Actor, Context

# registration kind -> the portal section that shows it
KIND_SECTIONS = {"hours": "hours", "expense": "expenses", "mileage": "mileage"}


def approves() -> ColumnElement[bool]:
    """A WHERE clause on Contact: the contact approves for its customer (named, or nobody of it is named)."""
    named = aliased(Contact)
    nobody_named = ~exists().where(named.customer_id == Contact.customer_id, named.approver.is_(True),
                                   named.email != "")
    return and_(Contact.email != "", or_(Contact.approver.is_(True), nobody_named))


def approver_contacts(session: Session, customer_id: int) -> list[Contact]:
    """The customer's approver contacts, in the order they were added."""
    return list(session.scalars(select(Contact).where(Contact.customer_id == customer_id, approves())
                                .order_by(Contact.id)))


def approver_customer_ids(session: Session, email: str, customer_ids: frozenset[int]) -> frozenset[int]:
    """Of `customer_ids`, those for which a contact with this (lower-cased) address approves."""
    if not customer_ids or not email:
        return frozenset()
    return frozenset(session.scalars(_APPROVER_CUSTOMERS, {"customer_ids": sorted(customer_ids), "email": email}))


# approver_customer_ids' statement, built once: every portal page view resolves its session with it
_APPROVER_CUSTOMERS = select(Contact.customer_id).where(
    Contact.customer_id.in_(bindparam("customer_ids", expanding=True)),
    func.lower(func.trim(Contact.email)) == bindparam("email"), approves())


# The customer's flags and the company's section settings in one statement, built once (every portal page checks
# them, the approvals page twice: its navigation and its list); no settings row yet means the defaults (all shown).
_SCOPE = (select(Customer.archived, Customer.portal_access, Customer.show_hours_overview,
                 *(func.coalesce(getattr(CompanySettings, flag), True).label(flag) for flag in PORTAL_FLAGS))
          .outerjoin(CompanySettings, CompanySettings.id == SETTINGS_ID)
          .where(Customer.id == bindparam("customer_id")))


def scope_sections(session: Session, actor: Actor, customer_id: int) -> dict[str, bool]:
    """Which portal sections the contact may see of its customer (the check of portal_scope, without the load).

    :raises NotFound: the actor does not act for the customer, or it is unknown, archived or without portal access.
    """
    if customer_id not in actor.customer_ids:
        raise NotFound(f"no customer {customer_id}")
    row = session.execute(_SCOPE, {"customer_id": customer_id}).one_or_none()
    if row is None or row.archived or not row.portal_access:
        raise NotFound(f"no customer {customer_id}")
    return {"hours": row.portal_shows_hours, "expenses": row.portal_shows_expenses,
            "mileage": row.portal_shows_mileage, "visits": bool(row.portal_shows_visits and row.show_hours_overview),
            "invoices": row.portal_shows_invoices, "quotes": row.portal_shows_quotes}


def portal_scope(session: Session, actor: Actor, customer_id: int) -> tuple[Customer, dict[str, bool]]:
    """The contact's customer and which portal sections it may see.

    :raises NotFound: as scope_sections.
    """
    sections = scope_sections(session, actor, customer_id)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer, sections


def require_section(sections: dict[str, bool], name: str) -> None:
    """:raises NotFound: the section is hidden from contacts (or unknown)."""
    if not sections.get(name):
        raise NotFound("not shown in the portal")


def portal_sections(ctx: Context, actor: Actor, customer_id: int) -> dict[str, bool]:
    """Which sections the portal shows this contact for this customer (for its navigation).

    :raises NotFound: as portal_scope.
    """
    with ctx.read() as uow:  # only reads: no BEGIN and ROLLBACK on PostgreSQL, no write lock on SQLite
        return scope_sections(uow.session, actor, customer_id)
