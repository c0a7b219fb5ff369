"""What a customer's contact downloads in the portal: visit photos (one or a zip), receipts, invoices and quotes.

Every id must belong to the contact's customer and its portal section must be shown (engine.services.portal_views
.portal_scope); otherwise NotFound. Files are read from engine.storage under their generated names.
"""

import io
import re
import unicodedata
import zipfile
from datetime import date, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.models import Invoice, Job, Registration, StaffUser, Visit, VisitPhoto
from engine.services.context import Actor, Context
from engine.services.portal_scope import KIND_SECTIONS, require_section, scope_sections
from engine.services.portal_visits import visit_period

DOCUMENT_SECTIONS = {"invoice": "invoices", "quote": "quotes"}
ZIP_MAX_PHOTOS = 500
ZIP_MAX_BYTES = 200 * 1024 * 1024


def safe_name(text: str, fallback: str = "file") -> str:
    """ASCII letters, digits, dots and dashes only, words joined by "_" ("Zoë O'Neil" -> "Zoe_O_Neil")."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9.-]+", "_", ascii_text).strip("._-")
    return cleaned[:80] or fallback


def photo_file(ctx: Context, actor: Actor, customer_id: int, photo_id: int) -> tuple[Path, str, str]:
    """One visit photo of the customer: (path, original name, content type).

    :raises NotFound: another customer's photo, visits not shown to contacts, or the file is gone.
    """
    with ctx.uow() as uow:
        sections = scope_sections(uow.session, actor, customer_id)
        require_section(sections, "visits")
        photo = uow.session.scalar(select(VisitPhoto).join(Visit, Visit.id == VisitPhoto.visit_id)
                                   .where(VisitPhoto.id == photo_id, Visit.customer_id == customer_id))
    if photo is None:
        raise NotFound(f"no photo {photo_id}")
    return ctx.files.path(photo.stored_name), photo.original_name, photo.content_type


def _zip_rows(session: Session, customer_id: int, visit_id: int | None, date_from: date | None,
              date_to: date | None, zone: tzinfo) -> list:
    query = (select(VisitPhoto, Visit, StaffUser.name).join(Visit, Visit.id == VisitPhoto.visit_id)
             .join(StaffUser, StaffUser.id == Visit.employee_id).where(Visit.customer_id == customer_id))
    if visit_id is not None:
        query = query.where(Visit.id == visit_id)
    if date_from is not None or date_to is not None:
        query = query.where(visit_period(date_from, date_to, zone))
    return session.execute(query.order_by(VisitPhoto.id).limit(ZIP_MAX_PHOTOS + 1)).all()


def photos_zip(ctx: Context, actor: Actor, customer_id: int, visit_id: int | None = None,
               date_from: date | None = None, date_to: date | None = None) -> tuple[bytes, str]:
    """The photos of one visit or of the visits in a period as a zip: (bytes, download name). Entries are named
    "<day>_<employee>_<n>.<ext>", unique and safe; photos whose file is gone are left out.

    :raises NotFound: another customer's visit, visits not shown, or no photos.
    :raises InvalidInput: more than ZIP_MAX_PHOTOS photos or ZIP_MAX_BYTES bytes; choose a shorter period.
    """
    with ctx.uow() as uow:
        sections = scope_sections(uow.session, actor, customer_id)
        require_section(sections, "visits")
        rows = _zip_rows(uow.session, customer_id, visit_id, date_from, date_to, ctx.settings.zone)
    if not rows:
        raise NotFound("no photos")
    if len(rows) > ZIP_MAX_PHOTOS or sum(photo.size for photo, _, _ in rows) > ZIP_MAX_BYTES:
        raise InvalidInput("too many photos for one download; choose a shorter period")
    buffer, used = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # photos are compressed already
        for photo, visit, employee in rows:
            try:
                path = ctx.files.path(photo.stored_name)
            except NotFound:
                continue
            day = (visit.checked_in_at or visit.planned_start or photo.uploaded_at).astimezone(ctx.settings.zone).date()
            suffix = Path(photo.stored_name).suffix.lower() or ".jpg"
            stem, n = f"{day.isoformat()}_{safe_name(employee, 'employee')}", 1
            while f"{stem}_{n}{suffix}" in used:
                n += 1
            used.add(f"{stem}_{n}{suffix}")
            archive.write(path, f"{stem}_{n}{suffix}")
    name = f"visit-{visit_id}-photos.zip" if visit_id is not None else \
        f"photos-{date_from or 'start'}-{date_to or 'end'}.zip"
    return buffer.getvalue(), name


def receipt_file(ctx: Context, actor: Actor, customer_id: int, registration_id: int) -> tuple[Path, str, str]:
    """The receipt of one of the customer's expenses: (path, original name, content type).

    :raises NotFound: another customer's registration, expenses not shown, no receipt, or the file is gone.
    """
    with ctx.uow() as uow:
        sections = scope_sections(uow.session, actor, customer_id)
        row = uow.session.scalar(select(Registration).join(Job, Job.id == Registration.job_id)
                                 .where(Registration.id == registration_id, Job.customer_id == customer_id))
        if row is None or not row.receipt_file or not sections[KIND_SECTIONS.get(row.kind, "")]:
            raise NotFound(f"no receipt {registration_id}")
    path = ctx.files.path(row.receipt_file)
    content_type = "application/pdf" if path.suffix == ".pdf" else f"image/{path.suffix[1:].replace('jpg', 'jpeg')}"
    return path, row.receipt_name or f"receipt-{registration_id}{path.suffix}", content_type


def _document_view(row: Invoice) -> dict:
    sign, cents = ("-" if row.amount_cents < 0 else ""), abs(row.amount_cents)
    return {"id": row.id, "kind": row.kind, "number": row.number, "issued_on": row.issued_on.isoformat(),
            "amount": f"{sign}{cents // 100}.{cents % 100:02d}", "amount_cents": row.amount_cents,
            "status": row.status, "has_pdf": bool(row.pdf_file)}


def list_documents(ctx: Context, actor: Actor, customer_id: int, kind: str = "invoice") -> list[dict]:
    """The customer's invoices or quotes, newest first; drafts are never shown to contacts.

    :raises NotFound: a customer the actor does not act for, an unknown kind, or a kind the portal does not show.
    """
    with ctx.uow() as uow:
        sections = scope_sections(uow.session, actor, customer_id)
        require_section(sections, DOCUMENT_SECTIONS.get(kind, ""))
        rows = uow.session.scalars(select(Invoice).where(Invoice.customer_id == customer_id, Invoice.kind == kind,
                                                         Invoice.status != "draft")
                                   .order_by(Invoice.issued_on.desc(), Invoice.id.desc()))
        return [_document_view(row) for row in rows]


def document_pdf(ctx: Context, actor: Actor, customer_id: int, document_id: int) -> tuple[Path, str, str]:
    """The PDF of one of the customer's invoices or quotes: (path, "invoice-<number>.pdf", "application/pdf").

    :raises NotFound: another customer's document, a draft, a hidden kind, no PDF, or the file is gone.
    """
    with ctx.uow() as uow:
        sections = scope_sections(uow.session, actor, customer_id)
        row = uow.session.scalar(select(Invoice).where(Invoice.id == document_id, Invoice.customer_id == customer_id,
                                                       Invoice.status != "draft"))
        if row is None or not row.pdf_file or not sections.get(DOCUMENT_SECTIONS.get(row.kind, "")):
            raise NotFound(f"no document {document_id}")
    return ctx.files.path(row.pdf_file), f"{row.kind}-{safe_name(row.number, str(row.id))}.pdf", "application/pdf"
