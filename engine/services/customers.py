"""Customers and their contact persons: create, edit, archive/restore, portal access (admins and managers).

Every function takes the acting staff member (`staff`); employees get NotAllowed, and a customer outside a
manager's scope (engine.services.staff_scope) is not found. Validation problems are
raised as one InvalidInput "field: problem; field: problem" so forms can show a message per field.
"""

import re
from urllib.parse import quote_plus, urlsplit

from sqlalchemy import func, or_, select

from engine.errors import InvalidInput, NotFound
from engine.isotime import iso
from engine.models import Contact, Customer, Job
from engine.services.context import Context
from engine.services.paging import PAGE_SIZE, Keyset, Page, fetch_page
from engine.services.portal_auth import end_customer_sessions, queue_invitations
from engine.services.staff_scope import StaffMember, ensure_office_role, get_visible_customer, visible_customer

NAME_MAX = 200
EMAIL_MAX = 320
MOBILE_MAX = 50
WEBSITE_MAX = 500
TEXT_MAX = 5000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^\+?[0-9 ()./-]{3,}$")

CUSTOMER_NAME = func.lower(Customer.name).label("sort_name")  # matches the index ix_customer_lower_name_id
CUSTOMERS = Keyset("customers", (CUSTOMER_NAME, Customer.id), ("str", "int"))


def _text(value: str | None) -> str:
    return (value or "").strip()


def _check_name(problems: list[str], field: str, name: str) -> None:
    if not name:
        problems.append(f"{field}: required")
    elif len(name) > NAME_MAX:
        problems.append(f"{field}: at most {NAME_MAX} characters")


def _check_website(problems: list[str], website: str) -> None:
    if not website:
        return
    parts = urlsplit(website)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in website:
        problems.append("website: must be a web address starting with http:// or https://")
    elif len(website) > WEBSITE_MAX:
        problems.append(f"website: at most {WEBSITE_MAX} characters")


def _check_contact(problems: list[str], prefix: str, name: str, email: str, mobile: str) -> None:
    _check_name(problems, f"{prefix}name", name)
    if email and (len(email) > EMAIL_MAX or not _EMAIL.match(email)):
        problems.append(f"{prefix}email: not an e-mail address")
    if mobile and (len(mobile) > MOBILE_MAX or not _MOBILE.match(mobile)):
        problems.append(f"{prefix}mobile: not a phone number")


def _customer_fields(name: str, billing_address: str, website: str, comment: str) -> tuple[dict, list[str]]:
    fields = {"name": _text(name), "billing_address": _text(billing_address), "website": _text(website),
              "comment": _text(comment)}
    problems: list[str] = []
    _check_name(problems, "name", fields["name"])
    for field in ("billing_address", "comment"):
        if len(fields[field]) > TEXT_MAX:
            problems.append(f"{field}: at most {TEXT_MAX} characters")
    _check_website(problems, fields["website"])
    return fields, problems


def _customer_view(customer: Customer, contact_count: int = 0, job_count: int = 0) -> dict:
    return {
        "id": customer.id, "name": customer.name, "billing_address": customer.billing_address,
        "website": customer.website, "comment": customer.comment, "archived": customer.archived,
        "portal_access": customer.portal_access, "show_hours_overview": customer.show_hours_overview,
        "created_at": iso(customer.created_at), "contact_count": contact_count, "job_count": job_count,
        "map_url": map_url(customer.billing_address),
    }


def map_url(address: str) -> str:
    """An OpenStreetMap search for the address ("" without one): a plain link, nothing is fetched."""
    address = " ".join((address or "").split())
    return f"https://www.openstreetmap.org/search?query={quote_plus(address)}" if address else ""


def _contact_view(contact: Contact) -> dict:
    return {"id": contact.id, "customer_id": contact.customer_id, "name": contact.name, "email": contact.email,
            "mobile": contact.mobile, "approver": contact.approver}


def _get_contact(session, staff: StaffMember, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    get_visible_customer(session, staff, contact.customer_id)
    return contact


def create_customer(ctx: Context, *, staff: StaffMember, name: str, billing_address: str = "", website: str = "",
                    comment: str = "", show_hours_overview: bool = False, contact_name: str = "",
                    contact_email: str = "", contact_mobile: str = "") -> dict:
    """Create a customer, with a first contact person when any contact field is given.

    :raises NotAllowed: employees. :raises InvalidInput: name missing or too long, website not http(s), bad e-mail.
    """
    ensure_office_role(staff)
    fields, problems = _customer_fields(name, billing_address, website, comment)
    contact = {"name": _text(contact_name), "email": _text(contact_email).lower(), "mobile": _text(contact_mobile)}
    if any(contact.values()):
        _check_contact(problems, "contact_", contact["name"], contact["email"], contact["mobile"])
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        customer = Customer(**fields, archived=False, portal_access=False, account_manager_id=staff.id,
                            show_hours_overview=bool(show_hours_overview), created_at=ctx.clock())
        uow.session.add(customer)
        uow.session.flush()
        if any(contact.values()):
            uow.session.add(Contact(customer_id=customer.id, **contact))
        uow.commit()
        return _customer_view(customer, contact_count=int(any(contact.values())))


def update_customer(ctx: Context, customer_id: int, *, staff: StaffMember, name: str, billing_address: str = "",
                    website: str = "", comment: str = "", show_hours_overview: bool = False) -> dict:
    """Change a customer's details.

    :raises NotAllowed: employees. :raises NotFound: unknown id. :raises InvalidInput: as create_customer.
    """
    ensure_office_role(staff)
    fields, problems = _customer_fields(name, billing_address, website, comment)
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        for key, value in fields.items():
            setattr(customer, key, value)
        customer.show_hours_overview = bool(show_hours_overview)
        uow.commit()
        return _customer_view(customer)


def _set_archived(ctx: Context, customer_id: int, staff: StaffMember, archived: bool) -> dict:
    ensure_office_role(staff)
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        customer.archived = archived
        if archived:  # an archived customer's contacts may no longer use the portal
            customer.portal_access = False
        uow.commit()
        return _customer_view(customer)


def archive_customer(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict:
    """Archive (the "delete" of the customer list; restorable) and revoke portal access.

    :raises NotAllowed: employees. :raises NotFound: unknown id.
    """
    return _set_archived(ctx, customer_id, staff, True)


def restore_customer(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict:
    """Bring an archived customer back (portal access stays revoked until granted again).

    :raises NotAllowed: employees. :raises NotFound: unknown id.
    """
    return _set_archived(ctx, customer_id, staff, False)


def set_portal_access(ctx: Context, customer_id: int, granted: bool, *, staff: StaffMember) -> dict:
    """Grant or revoke the customer's contacts access to the portal.

    A grant (from no access) queues an invitation to each contact with an e-mail address; a revoke ends the
    portal sessions of the contacts' addresses (they may cover other customers too: those log in again).

    :raises NotAllowed: employees. :raises NotFound: unknown id.
    :raises InvalidInput: granting to an archived customer, or one without a contact e-mail address.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        session = uow.session
        customer = get_visible_customer(session, staff, customer_id)
        if granted and customer.archived:
            raise InvalidInput("portal_access: restore the customer first")
        if granted and session.scalar(select(Contact.id).where(Contact.customer_id == customer_id,
                                                               Contact.email != "").limit(1)) is None:
            raise InvalidInput("portal_access: add a contact with an e-mail address first")
        was_granted, now = customer.portal_access, ctx.clock()
        customer.portal_access = bool(granted)
        if granted and not was_granted:  # a repeated grant does not mail everyone again
            queue_invitations(session, ctx.settings, customer, now)
        elif not granted:  # every session of the contacts' addresses ends, on the server
            end_customer_sessions(session, customer_id, now)
        uow.commit()
        return _customer_view(customer)


def list_customers(ctx: Context, include_archived: bool = False, search: str = "", *, staff: StaffMember,
                   cursor: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of customers by name (then id) with their contact and job counts; `search` matches name or website.

    :raises NotAllowed: employees.
    :raises InvalidInput: a cursor that is not a page link of this list with these filters.
    """
    ensure_office_role(staff)
    contacts = select(func.count(Contact.id)).where(Contact.customer_id == Customer.id).scalar_subquery()
    jobs = select(func.count(Job.id)).where(Job.customer_id == Customer.id).scalar_subquery()
    query = select(Customer, contacts, jobs, CUSTOMER_NAME).where(visible_customer(staff))
    if not include_archived:
        query = query.where(Customer.archived.is_(False))
    term = _text(search).lower()
    if term:
        query = query.where(or_(func.lower(Customer.name).contains(term, autoescape=True),
                                func.lower(Customer.website).contains(term, autoescape=True)))
    with ctx.read() as uow:
        rows, after, before = fetch_page(uow.session, query, CUSTOMERS, {"archived": include_archived, "q": term},
                                         cursor, lambda row: (row[3], row[0].id), size)
    return Page([_customer_view(customer, contact_count, job_count) for customer, contact_count, job_count, _ in rows],
                after, before)


def get_customer(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict:
    """One customer with its contacts (by name).

    :raises NotAllowed: employees. :raises NotFound: unknown id.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        contacts = [_contact_view(c) for c in uow.session.scalars(
            select(Contact).where(Contact.customer_id == customer_id).order_by(func.lower(Contact.name), Contact.id))]
        return {**_customer_view(customer, len(contacts)), "contacts": contacts}


def add_contact(ctx: Context, customer_id: int, *, staff: StaffMember, name: str, email: str = "",
                mobile: str = "") -> dict:
    """Add a contact person to a customer.

    :raises NotAllowed: employees. :raises NotFound: unknown customer. :raises InvalidInput: name, e-mail, mobile.
    """
    ensure_office_role(staff)
    values = {"name": _text(name), "email": _text(email).lower(), "mobile": _text(mobile)}
    problems: list[str] = []
    _check_contact(problems, "", **values)
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        contact = Contact(customer_id=customer_id, **values)
        uow.session.add(contact)
        uow.commit()
        return _contact_view(contact)


def update_contact(ctx: Context, contact_id: int, *, staff: StaffMember, name: str, email: str = "",
                   mobile: str = "") -> dict:
    """Change a contact person's name, e-mail or mobile number.

    :raises NotAllowed: employees. :raises NotFound: unknown contact. :raises InvalidInput: as add_contact.
    """
    ensure_office_role(staff)
    values = {"name": _text(name), "email": _text(email).lower(), "mobile": _text(mobile)}
    problems: list[str] = []
    _check_contact(problems, "", **values)
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        contact = _get_contact(uow.session, staff, contact_id)
        for key, value in values.items():
            setattr(contact, key, value)
        uow.commit()
        return _contact_view(contact)


def remove_contact(ctx: Context, contact_id: int, *, staff: StaffMember, customer_id: int | None = None) -> dict:
    """Delete a contact person (of `customer_id` when given); returns what was removed.

    :raises NotAllowed: employees. :raises NotFound: unknown contact, or one of another customer.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        contact = _get_contact(uow.session, staff, contact_id)
        if customer_id is not None and contact.customer_id != customer_id:
            raise NotFound(f"no contact {contact_id} of customer {customer_id}")
        view = _contact_view(contact)
        uow.session.delete(contact)
        uow.commit()
        return view
