"""Invoices and quotes of customers (admins and managers): create, edit, attach a PDF, list, download.

A number is unique per kind (invoice 2026-001 and quote 2026-001 may both exist). Amounts are entered as
decimal text ("1234.50") and stored as integer cents. A customer outside a manager's scope is not found;
validation problems are raised as one InvalidInput "field: problem; ...".
"""

import re
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import storage
from engine.errors import InvalidInput, NotFound
from engine.models import INVOICE_STATUSES, QUOTE_STATUSES, Customer, DocumentKind, Invoice
from engine.services.context import Context
from engine.services.staff_scope import StaffMember, ensure_office_role, get_visible_customer, visible_customer

STATUSES = {DocumentKind.INVOICE: INVOICE_STATUSES, DocumentKind.QUOTE: QUOTE_STATUSES}
NUMBER_MAX = 50
_AMOUNT = re.compile(r"^(\d{1,10})(?:[.,](\d{1,2}))?$")
NUMBER_USED = "number: already used"


def parse_amount(text: str | int | None) -> int:
    """"1234.50" / "1234,5" / "1234" -> cents (123450 / 123450 / 123400); thousands separators are not accepted.

    :raises ValueError: anything else (negative, more than two decimals, letters).
    """
    match = _AMOUNT.match(str(text if text is not None else "").strip().replace(" ", ""))
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def format_amount(cents: int) -> str:
    """123450 -> "1234.50"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _view(invoice: Invoice, customer_name: str) -> dict:
    return {"id": invoice.id, "customer_id": invoice.customer_id, "customer_name": customer_name,
            "kind": invoice.kind, "number": invoice.number, "issued_on": invoice.issued_on.isoformat(),
            "amount_cents": invoice.amount_cents, "amount": format_amount(invoice.amount_cents),
            "status": invoice.status, "has_pdf": invoice.pdf_file is not None, "pdf_name": invoice.pdf_name,
            "created_at": invoice.created_at.isoformat() if invoice.created_at else None}


def _check_fields(kind: str, status: str, amount: str | int | None, issued_on: date | str | None,
                  problems: list[str]) -> tuple[int | None, date | None]:
    if status not in STATUSES.get(kind, ()):
        problems.append(f"status: must be one of {', '.join(STATUSES.get(kind, ()))}" if kind in STATUSES
                        else "status: choose a kind first")
    try:
        cents = parse_amount(amount)
    except ValueError:
        problems.append("amount: not an amount (e.g. 1234.50)")
        cents = None
    day = issued_on if isinstance(issued_on, date) else None
    if day is None:
        text = (issued_on or "").strip()
        if not text:
            problems.append("issued_on: required")
        else:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                problems.append("issued_on: not a date (YYYY-MM-DD)")
    return cents, day


def _check_pdf(ctx: Context, data: bytes | None, filename: str | None, problems: list[str]) -> bool:
    if not data and not filename:
        return False
    try:
        ctx.files.check("pdf", data or b"", filename or "", storage.PDF)
    except InvalidInput as err:
        problems.append(str(err))
    return True


def _commit(ctx: Context, uow, stored_name: str | None) -> None:
    """Commit; a number taken by a concurrent insert becomes "number: already used" and the new file is removed."""
    try:
        uow.commit()
    except IntegrityError:
        if stored_name:
            ctx.files.delete(stored_name)
        raise InvalidInput(NUMBER_USED) from None
    except Exception:
        if stored_name:
            ctx.files.delete(stored_name)
        raise


def create_invoice(ctx: Context, customer_id: int, *, staff: StaffMember, kind: str, number: str,
                   issued_on: date | str | None, amount: str | int | None, status: str,
                   pdf_data: bytes | None = None, pdf_name: str | None = None) -> dict:
    """Create an invoice or quote, optionally with its PDF.

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    :raises InvalidInput: unknown kind/status, number missing/too long/already used, bad amount or date, not a PDF.
    """
    ensure_office_role(staff)
    number = (number or "").strip()
    problems: list[str] = []
    if kind not in STATUSES:
        problems.append("kind: must be invoice or quote")
    if not number:
        problems.append("number: required")
    elif len(number) > NUMBER_MAX:
        problems.append(f"number: at most {NUMBER_MAX} characters")
    cents, day = _check_fields(kind, status, amount, issued_on, problems)
    has_pdf = _check_pdf(ctx, pdf_data, pdf_name, problems)
    with ctx.uow() as uow:
        session = uow.session
        customer = get_visible_customer(session, staff, customer_id)
        if number and kind in STATUSES and session.scalar(
                select(Invoice.id).where(Invoice.kind == kind, Invoice.number == number)) is not None:
            problems.append(NUMBER_USED)
        if problems:
            raise InvalidInput("; ".join(problems))
        stored = ctx.files.save("pdf", pdf_data, pdf_name, storage.PDF) if has_pdf else None
        invoice = Invoice(customer_id=customer_id, kind=kind, number=number, issued_on=day, amount_cents=cents,
                          status=status, pdf_file=stored.stored_name if stored else None,
                          pdf_name=stored.original_name if stored else None, created_at=ctx.clock())
        session.add(invoice)
        _commit(ctx, uow, stored.stored_name if stored else None)
        return _view(invoice, customer.name)


def _get(session: Session, staff: StaffMember, invoice_id: int, customer_id: int | None) -> tuple[Invoice, str]:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or (customer_id is not None and invoice.customer_id != customer_id):
        raise NotFound(f"no invoice or quote {invoice_id}")
    return invoice, get_visible_customer(session, staff, invoice.customer_id).name


def update_invoice(ctx: Context, invoice_id: int, *, staff: StaffMember, issued_on: date | str | None,
                   amount: str | int | None, status: str, pdf_data: bytes | None = None,
                   pdf_name: str | None = None, customer_id: int | None = None) -> dict:
    """Change the date, amount and status; a new PDF replaces the old one (removed after the commit).

    :raises NotAllowed: employees. :raises NotFound: unknown id (or of another customer than `customer_id`).
    :raises InvalidInput: bad status for the kind, amount, date, or not a PDF.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        invoice, customer_name = _get(uow.session, staff, invoice_id, customer_id)
        problems: list[str] = []
        cents, day = _check_fields(invoice.kind, status, amount, issued_on, problems)
        has_pdf = _check_pdf(ctx, pdf_data, pdf_name, problems)
        if problems:
            raise InvalidInput("; ".join(problems))
        old_file = invoice.pdf_file
        invoice.issued_on, invoice.amount_cents, invoice.status = day, cents, status
        stored = ctx.files.save("pdf", pdf_data, pdf_name, storage.PDF) if has_pdf else None
        if stored:
            invoice.pdf_file, invoice.pdf_name = stored.stored_name, stored.original_name
        _commit(ctx, uow, stored.stored_name if stored else None)
        view = _view(invoice, customer_name)
    if stored and old_file:
        ctx.files.delete(old_file)
    return view


def attach_pdf(ctx: Context, invoice_id: int, *, staff: StaffMember, data: bytes, filename: str) -> dict:
    """Attach or replace the document's PDF (checked by content, stored under a generated name).

    :raises NotAllowed: employees. :raises NotFound: unknown id. :raises InvalidInput: empty, too large, not a PDF.
    """
    ensure_office_role(staff)
    checked = ctx.files.check("pdf", data, filename, storage.PDF)
    with ctx.uow() as uow:
        invoice, customer_name = _get(uow.session, staff, invoice_id, None)
        old_file = invoice.pdf_file
        stored = ctx.files.save("pdf", data, checked.original_name, storage.PDF)
        invoice.pdf_file, invoice.pdf_name = stored.stored_name, stored.original_name
        _commit(ctx, uow, stored.stored_name)
        view = _view(invoice, customer_name)
    if old_file:
        ctx.files.delete(old_file)
    return view


def list_invoices(ctx: Context, customer_id: int | None = None, kind: str | None = None, *,
                  staff: StaffMember) -> list[dict]:
    """Invoices and quotes (of one customer, of one kind), newest first; all of the staff member's scope.

    :raises NotAllowed: employees. :raises NotFound: unknown customer (when given).
    """
    ensure_office_role(staff)
    query = (select(Invoice, Customer.name).join(Customer, Invoice.customer_id == Customer.id)
             .where(visible_customer(staff)).order_by(Invoice.issued_on.desc(), Invoice.id.desc()))
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    if kind is not None:
        query = query.where(Invoice.kind == kind)
    with ctx.uow() as uow:
        if customer_id is not None:
            get_visible_customer(uow.session, staff, customer_id)
        return [_view(invoice, name) for invoice, name in uow.session.execute(query)]


def invoice_totals(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict[str, str]:
    """Sum of amounts per kind for the customer ({"invoice": "1234.50", "quote": "0.00"}).

    :raises NotAllowed: employees. :raises NotFound: unknown customer.
    """
    ensure_office_role(staff)
    query = (select(Invoice.kind, func.sum(Invoice.amount_cents)).where(Invoice.customer_id == customer_id)
             .group_by(Invoice.kind))
    with ctx.uow() as uow:
        get_visible_customer(uow.session, staff, customer_id)
        sums = dict(uow.session.execute(query).all())
    return {kind.value: format_amount(int(sums.get(kind.value) or 0)) for kind in DocumentKind}


def get_invoice(ctx: Context, invoice_id: int, *, staff: StaffMember, customer_id: int | None = None) -> dict:
    """One invoice or quote.

    :raises NotAllowed: employees. :raises NotFound: unknown id, outside the scope, or of another customer.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        invoice, customer_name = _get(uow.session, staff, invoice_id, customer_id)
        return _view(invoice, customer_name)


def pdf_file(ctx: Context, invoice_id: int, *, staff: StaffMember,
             customer_id: int | None = None) -> tuple[Path, str, str]:
    """(path on disk, download name, "application/pdf") of the document's PDF; serve it as an attachment.

    :raises NotAllowed: employees. :raises NotFound: unknown id, no PDF attached, or the file is gone.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        invoice, _ = _get(uow.session, staff, invoice_id, customer_id)
        if not invoice.pdf_file:
            raise NotFound(f"{invoice.kind} {invoice.number} has no PDF")
        stored, name = invoice.pdf_file, invoice.pdf_name or f"{invoice.kind}-{invoice.number}.pdf"
    return ctx.files.path(stored), name, "application/pdf"
