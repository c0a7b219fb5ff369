"""What hangs off a customer besides its contacts: the journal, resources, associated employees, settings.

Admins and managers only (employees get NotAllowed); a customer outside a manager's scope is not found
(engine.services.staff_scope). Validation problems are raised as one InvalidInput "field: problem; ...".
The journal is internal: nothing here is ever shown in the portal.
"""

from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import storage
from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.isotime import iso
from engine.models import CustomerEmployee, CustomerResource, JournalEntry, StaffRole, StaffUser
from engine.services.context import Context
from engine.services.customers import NAME_MAX, TEXT_MAX, WEBSITE_MAX
from engine.services.staff_scope import (
    StaffMember,
    ensure_office_role,
    get_visible_customer,
)


def _raise(problems: list[str]) -> None:
    if problems:
        raise InvalidInput("; ".join(problems))


# --- journal -------------------------------------------------------------------------------------------------

def _entry_view(entry: JournalEntry, author_name: str | None) -> dict:
    return {"id": entry.id, "customer_id": entry.customer_id, "author_id": entry.author_id,
            "author_name": author_name, "text": entry.text, "created_at": iso(entry.created_at)}


def list_journal(ctx: Context, customer_id: int, *, staff: StaffMember) -> list[dict]:
    """The customer's journal, newest first, with author names (one query).

    :raises NotAllowed: employees. :raises NotFound: unknown customer or outside the scope.
    """
    ensure_office_role(staff)
    query = (select(JournalEntry, StaffUser.name).outerjoin(StaffUser, JournalEntry.author_id == StaffUser.id)
             .where(JournalEntry.customer_id == customer_id)
             .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc()))
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        return [_entry_view(entry, name) for entry, name in uow.session.execute(query)]


def add_journal_entry(ctx: Context, customer_id: int, *, staff: StaffMember, text: str) -> dict:
    """Write an internal note about the customer.

    :raises NotAllowed: employees. :raises NotFound: unknown customer. :raises InvalidInput: empty or too long.
    """
    ensure_office_role(staff)
    text = (text or "").strip()
    problems: list[str] = []
    if not text:
        problems.append("text: required")
    elif len(text) > TEXT_MAX:
        problems.append(f"text: at most {TEXT_MAX} characters")
    _raise(problems)
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        entry = JournalEntry(customer_id=customer_id, author_id=staff.id, text=text, created_at=ctx.clock())
        uow.session.add(entry)
        uow.commit()
        return _entry_view(entry, staff.name)


def delete_journal_entry(ctx: Context, entry_id: int, *, staff: StaffMember, customer_id: int | None = None) -> dict:
    """Delete a note (of `customer_id` when given): a manager only its own, an admin any; returns what was deleted.

    :raises NotAllowed: employees, or a manager deleting another's note.
    :raises NotFound: unknown entry, or one of another customer.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        entry = uow.session.get(JournalEntry, entry_id)
        if entry is None or (customer_id is not None and entry.customer_id != customer_id):
            raise NotFound(f"no journal entry {entry_id}")
        get_visible_customer(uow.session, staff, entry.customer_id)
        if staff.role != StaffRole.ADMIN and entry.author_id != staff.id:
            raise NotAllowed("a manager may delete only its own journal entries")
        view = _entry_view(entry, None)
        uow.session.delete(entry)
        uow.commit()
        return view


# --- resources -----------------------------------------------------------------------------------------------

def _resource_view(resource: CustomerResource) -> dict:
    return {"id": resource.id, "customer_id": resource.customer_id, "title": resource.title, "url": resource.url,
            "is_file": resource.stored_name is not None, "original_name": resource.original_name,
            "content_type": resource.content_type, "size": resource.size, "created_at": iso(resource.created_at)}


def _check_title(problems: list[str], title: str) -> None:
    if not title:
        problems.append("title: required")
    elif len(title) > NAME_MAX:
        problems.append(f"title: at most {NAME_MAX} characters")


def list_resources(ctx: Context, customer_id: int, *, staff: StaffMember) -> list[dict]:
    """The customer's links and files, by title.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    """
    ensure_office_role(staff)
    query = (select(CustomerResource).where(CustomerResource.customer_id == customer_id)
             .order_by(func.lower(CustomerResource.title), CustomerResource.id))
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        return [_resource_view(r) for r in uow.session.scalars(query)]


def add_resource_link(ctx: Context, customer_id: int, *, staff: StaffMember, title: str, url: str) -> dict:
    """Add a hyperlink (http or https only, so no javascript: or file: link ends up on a page).

    :raises NotAllowed: employees. :raises NotFound: unknown customer. :raises InvalidInput: title, url.
    """
    ensure_office_role(staff)
    title, url = (title or "").strip(), (url or "").strip()
    problems: list[str] = []
    _check_title(problems, title)
    parts = urlsplit(url)
    if not url:
        problems.append("url: required")
    elif parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        problems.append("url: must be a web address starting with http:// or https://")
    elif len(url) > WEBSITE_MAX:
        problems.append(f"url: at most {WEBSITE_MAX} characters")
    _raise(problems)
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        resource = CustomerResource(customer_id=customer_id, title=title, url=url, created_by=staff.id,
                                    created_at=ctx.clock())
        uow.session.add(resource)
        uow.commit()
        return _resource_view(resource)


def add_resource_file(ctx: Context, customer_id: int, *, staff: StaffMember, title: str, data: bytes,
                      filename: str) -> dict:
    """Store an uploaded file (any kind; always served as a download) under a generated name.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    :raises InvalidInput: title missing/too long, file empty or too large.
    """
    ensure_office_role(staff)
    title = (title or "").strip() or Path((filename or "").replace("\\", "/")).name.strip()
    problems: list[str] = []
    _check_title(problems, title)
    try:
        ctx.files.check("file", data, filename, storage.ANY_FILE)
    except InvalidInput as err:
        problems.append(str(err))
    _raise(problems)
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        stored = ctx.files.save("file", data, filename, storage.ANY_FILE)
        resource = CustomerResource(customer_id=customer_id, title=title, stored_name=stored.stored_name,
                                    original_name=stored.original_name, content_type=stored.content_type,
                                    size=stored.size, created_by=staff.id, created_at=ctx.clock())
        uow.session.add(resource)
        try:
            uow.commit()
        except Exception:
            ctx.files.delete(stored.stored_name)
            raise
        return _resource_view(resource)


def _get_resource(session: Session, staff: StaffMember, resource_id: int, customer_id: int | None):
    resource = session.get(CustomerResource, resource_id)
    if resource is None or (customer_id is not None and resource.customer_id != customer_id):
        raise NotFound(f"no resource {resource_id}")
    get_visible_customer(session, staff, resource.customer_id)
    return resource


def delete_resource(ctx: Context, resource_id: int, *, staff: StaffMember, customer_id: int | None = None) -> dict:
    """Delete a link or file (the file leaves the disk after the commit); returns what was deleted.

    :raises NotAllowed: employees. :raises NotFound: unknown resource, or one of another customer.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        resource = _get_resource(uow.session, staff, resource_id, customer_id)
        view, stored_name = _resource_view(resource), resource.stored_name
        uow.session.delete(resource)
        uow.commit()
    if stored_name:
        ctx.files.delete(stored_name)
    return view


def resource_file(ctx: Context, resource_id: int, *, staff: StaffMember,
                  customer_id: int | None = None) -> tuple[Path, str, str]:
    """(path on disk, download name, content type) of a file resource; serve it as an attachment.

    :raises NotAllowed: employees. :raises NotFound: unknown resource, a link, or the file is gone.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        resource = _get_resource(uow.session, staff, resource_id, customer_id)
        if not resource.stored_name:
            raise NotFound(f"resource {resource_id} is a link, not a file")
        stored, name, kind = resource.stored_name, resource.original_name or "download", resource.content_type
    return ctx.files.path(stored), name, kind or "application/octet-stream"


# --- associated employees ------------------------------------------------------------------------------------

def list_customer_employees(ctx: Context, customer_id: int, *, staff: StaffMember) -> list[dict]:
    """The employees associated with the customer, by name.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    """
    ensure_office_role(staff)
    query = (select(StaffUser).join(CustomerEmployee, CustomerEmployee.employee_id == StaffUser.id)
             .where(CustomerEmployee.customer_id == customer_id).order_by(func.lower(StaffUser.name), StaffUser.id))
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        return [{"id": u.id, "name": u.name, "email": u.email, "active": u.active}
                for u in uow.session.scalars(query)]


def list_assignable_employees(ctx: Context, *, staff: StaffMember) -> list[dict]:
    """Active employees, by name (the choices of the "associate an employee" form).

    :raises NotAllowed: employees.
    """
    ensure_office_role(staff)
    query = (select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True),
                                                        StaffUser.role == StaffRole.EMPLOYEE)
             .order_by(func.lower(StaffUser.name), StaffUser.id))
    with ctx.uow() as uow:
        return [{"id": row.id, "name": row.name} for row in uow.session.execute(query)]


def add_customer_employee(ctx: Context, customer_id: int, employee_id: int, *, staff: StaffMember) -> dict:
    """Associate an active employee with the customer (doing it twice is harmless).

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    :raises InvalidInput: not an active staff user with role employee.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        user = uow.session.get(StaffUser, employee_id)
        if user is None or not user.active or user.role != StaffRole.EMPLOYEE:
            raise InvalidInput("employee_id: not an active employee")
        if uow.session.get(CustomerEmployee, (customer_id, employee_id)) is None:
            uow.session.add(CustomerEmployee(customer_id=customer_id, employee_id=employee_id))
        uow.commit()
        return {"id": user.id, "name": user.name, "email": user.email, "active": user.active}


def remove_customer_employee(ctx: Context, customer_id: int, employee_id: int, *, staff: StaffMember) -> None:
    """End an employee's association with the customer.

    :raises NotAllowed: employees. :raises NotFound: unknown customer or no such association.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        link = uow.session.get(CustomerEmployee, (customer_id, employee_id))
        if link is None:
            raise NotFound(f"employee {employee_id} is not associated with customer {customer_id}")
        uow.session.delete(link)
        uow.commit()


# the rest of the customer's extras (message, vCard, settings) live in customer_contact; re-exported here
from engine.services.customer_contact import (  # noqa: E402, F401, I001
    contact_vcard,
    send_customer_message,
    set_account_manager,
    set_show_hours_overview,
)
