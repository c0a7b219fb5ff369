"""The demo company `make demo` seeds: every kind of row, valid files on disk, approvals in several states."""

import struct
import zlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from engine.demo_files import PNG_SIGNATURE, make_pdf, make_png
from engine.demo_seed import DEMO_PASSWORD, HISTORY, seed_demo_company
from engine.models import (
    Contact,
    Customer,
    CustomerEmployee,
    CustomerResource,
    Invoice,
    Job,
    JournalEntry,
    OutboxMessage,
    Registration,
    StaffUser,
    Visit,
    VisitPhoto,
    WorkflowInstance,
)
from engine.services.process_stats import get_process_stats
from engine.services.staff_auth import authenticate, resolve_session


def _count(ctx, model, *where) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def _assert_png(data: bytes) -> None:
    assert data.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert width > 0 and height > 0 and depth == 8 and colour == 2
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(data[12:29])
    assert data.endswith(b"IEND\xaeB`\x82")


def _assert_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    startxref = int(data.rstrip().splitlines()[-2])
    assert data[startxref:startxref + 4] == b"xref"


def test_seeding_creates_a_whole_demo_company_once(ctx, clock):
    logins = seed_demo_company(ctx)
    assert logins is not None and logins.password == DEMO_PASSWORD and len(DEMO_PASSWORD) >= 12
    assert {role for _, _, role in logins.staff} == {"admin", "manager", "employee"}
    assert authenticate(ctx, logins.staff[0][0], logins.password)
    assert _count(ctx, StaffUser) == len(logins.staff) == 6
    assert _count(ctx, Customer) == 4 and _count(ctx, Contact) >= 4
    assert _count(ctx, Customer, Customer.portal_access.is_(True)) == 3
    assert _count(ctx, Customer, Customer.approval_period.is_not(None)) == 1
    assert _count(ctx, Customer, Customer.account_manager_id.is_(None)) == 0
    assert _count(ctx, CustomerEmployee) > 0 and _count(ctx, JournalEntry) > 0 and _count(ctx, CustomerResource) > 0
    assert _count(ctx, Job) == 6 + len(HISTORY) and _count(ctx, Job, Job.requires_customer_approval.is_(True)) >= 4
    today = clock().date()
    with ctx.uow() as uow:
        days = uow.session.execute(select(func.min(Registration.work_date), func.max(Registration.work_date))
                                   .where(Registration.kind == "hours")).one()
        kinds = set(uow.session.scalars(select(Registration.kind).distinct()))
        statuses = set(uow.session.scalars(select(WorkflowInstance.case_status)))
        invitations = set(uow.session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.template == "portal_invitation_to_customer")))
    assert days[0] >= today - timedelta(days=30) and days[1] == today - timedelta(days=1 + max(0, today.weekday() - 4))
    assert (days[1] - days[0]).days >= 25
    assert kinds == {"hours", "expense", "mileage"}
    assert _count(ctx, Registration, Registration.kind == "hours") >= 40
    assert {"awaiting_customer", "approved", "queried"} <= statuses
    assert _count(ctx, WorkflowInstance, WorkflowInstance.process_id == "timesheet_approval") == 2
    assert invitations == {email for email, _ in logins.contacts}
    with ctx.uow() as uow:  # Harbour View's two contacts are both named approvers and both get its requests
        harbour = uow.session.scalar(select(Customer.id).where(Customer.name == "Harbour View Dental"))
        approvers = set(uow.session.scalars(select(Contact.email).where(Contact.customer_id == harbour,
                                                                        Contact.approver.is_(True))))
        requested = set(uow.session.scalars(select(OutboxMessage.recipient).join(
            WorkflowInstance, WorkflowInstance.id == OutboxMessage.instance_id).where(
            WorkflowInstance.customer_id == harbour, OutboxMessage.template == "approval_request_to_customer")))
    assert approvers == requested == {"hanna@harbourview-dental.example", "bram@harbourview-dental.example"}

    assert seed_demo_company(ctx) is None  # a second call does nothing
    assert _count(ctx, Customer) == 4 and _count(ctx, StaffUser) == 6


def test_the_job_approval_diagram_has_cases_waiting_and_reviews_that_took_time(ctx):
    """What a manager opens first on the monitor: Max's two questions wait at "Answer the customer's question",
    and his customers' reviews took from hours to days, so the review task has a median and a spread."""
    seed_demo_company(ctx)
    max_ = resolve_session(ctx, authenticate(ctx, "max@signoff.test", DEMO_PASSWORD)).actor
    stats = get_process_stats(ctx, "job_approval", 1, max_)
    assert stats["answer_query"].waiting == 2
    review = stats["review_job"]
    assert review.decided >= 5 and review.median_seconds > 3600 and review.p90_seconds > 2 * review.median_seconds


def test_visit_photos_receipts_and_invoice_pdfs_are_valid_files_on_disk(ctx):
    seed_demo_company(ctx)
    root = Path(ctx.settings.upload_dir)
    with ctx.uow() as uow:
        visits = uow.session.execute(select(Visit.id, func.count(VisitPhoto.id)).join(
            VisitPhoto, VisitPhoto.visit_id == Visit.id).group_by(Visit.id)).all()
        photos = list(uow.session.scalars(select(VisitPhoto.stored_name)))
        receipts = list(uow.session.scalars(select(Registration.receipt_file).where(
            Registration.receipt_file.is_not(None))))
        pdfs = list(uow.session.scalars(select(Invoice.pdf_file)))
        kinds = set(uow.session.scalars(select(Invoice.kind)))
        late = uow.session.scalar(select(func.count()).select_from(Visit).where(
            Visit.checked_in_at > Visit.planned_start))
    assert visits and all(1 <= count <= 3 for _, count in visits) and late > 0
    assert _count(ctx, Visit, Visit.customer_id.is_not(None)) == len(visits)
    assert kinds == {"invoice", "quote"} and len(pdfs) >= 8
    for name in photos + receipts:
        _assert_png((root / name).read_bytes())
    for name in pdfs:
        _assert_pdf((root / name).read_bytes())


def test_generated_files_are_well_formed():
    _assert_png(make_png((10, 20, 30), 5, 4))
    _assert_pdf(make_pdf(["Invoice (test) \\ 1", "Amount: EUR 10.00"]))
    raw = zlib.decompress(make_png((10, 20, 30), 5, 4)[41:-16])
    assert len(raw) == 4 * (1 + 5 * 3)


def test_the_demo_shows_a_switcher_a_customer_to_grant_and_a_visit_to_turn_into_hours(ctx):
    from engine.models import StaffUser as Staff
    logins = seed_demo_company(ctx)
    shared = "femke@facility-partners.example"
    assert [email for email, _ in logins.contacts].count(shared) == 2
    with ctx.uow() as uow:
        session = uow.session
        customers = set(session.scalars(select(Customer.name).join(Contact, Contact.customer_id == Customer.id)
                                        .where(Contact.email == shared, Customer.portal_access.is_(True))))
        library = session.scalar(select(Customer).where(Customer.name == "Northside Community Library"))
        max_id = session.scalar(select(Staff.id).where(Staff.email == "max@signoff.test"))
        unregistered = session.scalars(select(Visit.id).where(
            Visit.checked_out_at.is_not(None), Visit.id.not_in(select(Registration.visit_id).where(
                Registration.visit_id.is_not(None))))).all()
        comments = set(session.scalars(select(Customer.comment)))
    assert customers == {"Greenleaf Office Park", "Golden Crust Bakery"}
    # the README's first tour: Max grants portal access to a customer of his that has none yet
    assert not library.portal_access and library.account_manager_id == max_id
    assert len(unregistered) == 1 and "" not in comments
