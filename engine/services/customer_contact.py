"""Reaching a customer: a message to a contact (through the outbox), a contact's vCard, and customer settings
(who of its contacts approves).

Admins and managers only (setting the account manager: admins only); a customer outside a manager's scope
is not found. Validation problems are raised as one InvalidInput "field: problem; ...".
"""

from sqlalchemy import select, update

from engine.errors import InvalidInput, NotFound
from engine.models import Contact, Customer, OutboxMessage, OutboxStatus, StaffUser
from engine.services.context import Context
from engine.services.customers import NAME_MAX, TEXT_MAX
from engine.services.portal_scope import approver_contacts
from engine.services.staff_scope import (
    OFFICE_ROLES,
    StaffMember,
    ensure_admin,
    ensure_office_role,
    get_visible_customer,
)

MESSAGE_TEMPLATE = "message_to_customer"
SUBJECT_MAX = NAME_MAX


def send_customer_message(ctx: Context, customer_id: int, *, staff: StaffMember, contact_id: int | str | None,
                          subject: str, body: str) -> dict:
    """Queue an e-mail from the staff member to one of the customer's contacts (delivered after commit).

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    :raises InvalidInput: no such contact of this customer, contact without e-mail, subject or body missing/too long.
    """
    ensure_office_role(staff)
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    problems: list[str] = []
    if not subject:
        problems.append("subject: required")
    elif len(subject) > SUBJECT_MAX:
        problems.append(f"subject: at most {SUBJECT_MAX} characters")
    if not body:
        problems.append("body: required")
    elif len(body) > TEXT_MAX:
        problems.append(f"body: at most {TEXT_MAX} characters")
    try:
        contact_key = int(contact_id) if contact_id not in (None, "") else None
    except (TypeError, ValueError):
        contact_key = None
    with ctx.uow() as uow:
        session = uow.session
        customer = get_visible_customer(session, staff, customer_id)
        contact = session.get(Contact, contact_key) if contact_key is not None else None
        if contact is None or contact.customer_id != customer_id:
            problems.append("contact_id: choose a contact person of this customer")
        elif not contact.email:
            problems.append("contact_id: this contact has no e-mail address")
        if problems:
            raise InvalidInput("; ".join(problems))
        context = {"title": subject, "message_body": body, "customer_id": customer_id,
                   "customer_name": customer.name, "contact_name": contact.name, "sender_name": staff.name}
        row = OutboxMessage(instance_id=None, template=MESSAGE_TEMPLATE, audience="customer",
                            recipient=contact.email, context=context, created_at=ctx.clock(),
                            status=OutboxStatus.PENDING)
        session.add(row)
        uow.commit()
        return {"id": row.id, "recipient": contact.email, "contact_name": contact.name, "subject": subject}


def _escape(value: str) -> str:
    """vCard text value escaping (RFC 6350 3.4 / RFC 2426 4): backslash, comma, semicolon, newline."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (continuation starts with a space)."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def contact_vcard(ctx: Context, contact_id: int, *, staff: StaffMember) -> str:
    """A vCard 3.0 of the contact person (FN, N, ORG = the customer's name, EMAIL, TEL), CRLF line ends.

    :raises NotAllowed: employees. :raises NotFound: unknown contact or customer outside the scope.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        contact = uow.session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        customer = get_visible_customer(uow.session, staff, contact.customer_id)
        name, email, mobile, org = contact.name.strip(), contact.email, contact.mobile, customer.name
    given, _, family = name.rpartition(" ") if " " in name else ("", "", name)
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{_escape(family)};{_escape(given)};;;", f"FN:{_escape(name)}",
             f"ORG:{_escape(org)}"]
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET:{_escape(email)}")
    if mobile:
        lines.append(f"TEL;TYPE=CELL:{_escape(mobile)}")
    lines.append("END:VCARD")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def set_show_hours_overview(ctx: Context, customer_id: int, shown: bool, *, staff: StaffMember) -> bool:
    """Show or hide the hours overview in the customer's portal; returns the new setting.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        customer.show_hours_overview = bool(shown)
        uow.commit()
        return customer.show_hours_overview


def set_account_manager(ctx: Context, customer_id: int, manager_id: int | None, *, staff: StaffMember) -> dict:
    """Make an active admin or manager the customer's account manager (None: nobody); admins only.

    :raises NotAllowed: not an admin. :raises NotFound: unknown customer.
    :raises InvalidInput: manager_id is not an active admin or manager.
    """
    ensure_admin(staff)
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        manager = uow.session.get(StaffUser, manager_id) if manager_id is not None else None
        if manager_id is not None and (manager is None or not manager.active or manager.role not in OFFICE_ROLES):
            raise InvalidInput("manager_id: not an active admin or manager")
        customer.account_manager_id = manager_id
        uow.commit()
        return {"customer_id": customer_id, "manager_id": manager_id, "manager_name": manager.name if manager else None}


def account_manager_of(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict:
    """The customer's account manager ({"id", "name"}, both None when nobody).

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        row = uow.session.execute(select(StaffUser.id, StaffUser.name).join(
            Customer, Customer.account_manager_id == StaffUser.id).where(Customer.id == customer_id)).first()
        return {"id": row.id, "name": row.name} if row else {"id": None, "name": None}


def set_approvers(ctx: Context, customer_id: int, contact_ids: list[int], *, staff: StaffMember) -> list[str]:
    """Name the customer's approver contacts (none named: every contact with an e-mail address approves);
    returns the names of the approvers now. New approvals mail them; the portal lets only them decide.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    :raises InvalidInput: an id that is not a contact of this customer, or a contact without an e-mail address.
    """
    ensure_office_role(staff)
    wanted = set(contact_ids)
    with ctx.uow() as uow:
        session = uow.session
        get_visible_customer(session, staff, customer_id)
        contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.customer_id == customer_id))}
        problems = [f"approver: contact {cid} is not a contact person of this customer"
                    for cid in sorted(wanted - contacts.keys())]
        problems += [f"approver: {contacts[cid].name} has no e-mail address, so cannot log in to approve"
                     for cid in sorted(wanted & contacts.keys()) if not contacts[cid].email]
        if problems:
            raise InvalidInput("; ".join(problems))
        session.execute(update(Contact).where(Contact.customer_id == customer_id)
                        .values(approver=Contact.id.in_(sorted(wanted)) if wanted else False))
        names = [c.name for c in approver_contacts(session, customer_id)]
        uow.commit()
        return names
