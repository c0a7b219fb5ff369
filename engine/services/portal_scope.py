"""Who may see what in the customer portal: the contact's customer and the sections the settings allow.

Every portal read starts here, so an id of another customer, or a hidden section, is simply not found.
"""

from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import Customer
from engine.services.company_settings import load_settings
from engine.services.context import Actor, Context

# registration kind -> the portal section that shows it
KIND_SECTIONS = {"hours": "hours", "expense": "expenses", "mileage": "mileage"}



def portal_scope(session: Session, actor: Actor, customer_id: int) -> tuple[Customer, dict[str, bool]]:
    """The contact's customer and which portal sections it may see.

    :raises NotFound: the actor does not act for the customer, or it is unknown, archived or without portal access.
    """
    if customer_id not in actor.customer_ids:
        raise NotFound(f"no customer {customer_id}")
    customer = session.get(Customer, customer_id)
    if customer is None or customer.archived or not customer.portal_access:
        raise NotFound(f"no customer {customer_id}")
    settings = load_settings(session)
    sections = {
        "hours": settings.portal_shows_hours, "expenses": settings.portal_shows_expenses,
        "mileage": settings.portal_shows_mileage,
        "visits": bool(settings.portal_shows_visits and customer.show_hours_overview),
        "invoices": settings.portal_shows_invoices, "quotes": settings.portal_shows_quotes,
    }
    return customer, sections


def require_section(sections: dict[str, bool], name: str) -> None:
    """:raises NotFound: the section is hidden from contacts (or unknown)."""
    if not sections.get(name):
        raise NotFound("not shown in the portal")


def portal_sections(ctx: Context, actor: Actor, customer_id: int) -> dict[str, bool]:
    """Which sections the portal shows this contact for this customer (for its navigation).

    :raises NotFound: as portal_scope.
    """
    with ctx.uow() as uow:
        return portal_scope(uow.session, actor, customer_id)[1]
