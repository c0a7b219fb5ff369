"""Which approval mails a customer's contacts get: approval requests, reminders, answers to their questions.

Stored per customer (customer.mail_*; all on by default) and handed to each approval at its start as
`customer_mails` (engine.services.approvals), where the notify.customer handler honours it when it queues a mail
(engine.service_tasks.handlers). Running approvals keep the settings they started with, as they keep their policy.
Mails that are not about approvals (login codes, invitations, a staff member's message) always go.
"""

from engine.models import Customer
from engine.services.context import Context
from engine.services.staff_scope import StaffMember, ensure_office_role, get_visible_customer

# the mail template (without "_to_customer") -> the customer's column and its label
CUSTOMER_MAILS = {
    "approval_request": ("mail_approval_requests", "Approval requests"),
    "reminder": ("mail_reminders", "Reminders before the approval period ends"),
    "query_answered": ("mail_answers", "Answers to their questions"),
}


def customer_mails(customer: Customer) -> list[str]:
    """The approval mails (template names) this customer's contacts get, for an approval's start data."""
    return [template for template, (column, _) in CUSTOMER_MAILS.items() if getattr(customer, column)]


def _view(customer: Customer) -> dict:
    return {"customer_id": customer.id, "customer_name": customer.name,
            "mails": [{"name": column, "template": template, "label": label, "on": bool(getattr(customer, column))}
                      for template, (column, label) in CUSTOMER_MAILS.items()]}


def get_customer_mails(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict:
    """The customer's mail settings, one entry per approval mail.

    :raises NotAllowed: employees. :raises NotFound: a customer outside the staff member's scope.
    """
    ensure_office_role(staff)
    with ctx.read() as uow:
        return _view(get_visible_customer(uow.session, staff, customer_id))


def set_customer_mails(ctx: Context, customer_id: int, *, staff: StaffMember, on: set[str]) -> dict:
    """Switch the customer's approval mails: those named in `on` (columns, e.g. "mail_reminders") go, the others
    do not. Unknown names are ignored (a form sends only the boxes that are ticked).

    :raises NotAllowed: employees. :raises NotFound: a customer outside the staff member's scope.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        for column, _ in CUSTOMER_MAILS.values():
            setattr(customer, column, column in on)
        uow.commit()
        return _view(customer)
