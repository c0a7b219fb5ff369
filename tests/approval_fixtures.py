"""Shared fixtures and helpers for the approval and portal tests: an office with both processes deployed,
a customer with portal access and a job under its manager, work added straight into the tables, and the
contact acting in the portal. Test modules import the fixtures they use by name."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from engine.models import Customer, Invoice, Registration, Visit, VisitPhoto
from engine.services import approvals, company_settings, customers, jobs
from engine.services.context import Actor
from engine.services.portal_views import list_review_tasks
from engine.services.staff_auth import create_staff_user
from engine.storage import IMAGE, PDF

PASSWORD = "correct horse battery"


@pytest.fixture
def office(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    deploy("bpmn/timesheet_approval.bpmn")
    admin = create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    manager = create_staff_user(ctx, "max@example.com", "Max Manager", "manager", PASSWORD)
    return admin, manager


@pytest.fixture
def customer(ctx, office):
    admin, manager = office
    created = customers.create_customer(ctx, staff=manager, name="Mill House", contact_name="Dana",
                                        contact_email="dana@millhouse.example")
    customers.set_portal_access(ctx, created["id"], True, staff=manager)
    return created


@pytest.fixture
def job(ctx, office, customer):
    _, manager = office
    return jobs.create_job(ctx, customer["id"], staff=manager, name="Window cleaning", manager_id=manager.id,
                           requires_customer_approval=True)


def add_hours(ctx, job_id: int, employee_id: int, day: date, minutes: int = 120) -> int:
    with ctx.uow() as uow:
        row = Registration(job_id=job_id, employee_id=employee_id, kind="hours", work_date=day,
                           start_time=time(9), end_time=None, minutes=minutes, description="Windows",
                           created_at=ctx.clock(), updated_at=ctx.clock())
        uow.session.add(row)
        uow.commit()
        return row.id


def registration_statuses(ctx, ids) -> dict[int, tuple[str, int | None, str | None]]:
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(Registration).where(Registration.id.in_(ids)))
        return {r.id: (r.status, r.approval_instance_id, r.customer_comment) for r in rows}


def contact(customer_id: int) -> Actor:
    return Actor("dana@millhouse.example", frozenset({"customer"}), frozenset({customer_id}))


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
NOV = date(2026, 11, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def add_visit(ctx, customer_id: int, job_id: int | None, employee_id: int, day: date, photos: int = 0) -> tuple:
    with ctx.uow() as uow:
        visit = Visit(customer_id=customer_id, job_id=job_id, employee_id=employee_id, planned_start=at(day, 9),
                      planned_end=at(day, 11), checked_in_at=at(day, 9, 5), checked_out_at=at(day, 11, 35),
                      created_at=ctx.clock())
        uow.session.add(visit)
        uow.session.flush()
        photo_ids = []
        for n in range(photos):
            stored = ctx.files.save("photo", PNG, f"../IMG {n}.png", IMAGE)
            photo = VisitPhoto(visit_id=visit.id, stored_name=stored.stored_name, original_name=stored.original_name,
                               content_type=stored.content_type, size=stored.size, uploaded_at=ctx.clock())
            uow.session.add(photo)
            uow.session.flush()
            photo_ids.append(photo.id)
        uow.commit()
        return visit.id, photo_ids


def add_document(ctx, customer_id: int, number: str, status: str = "sent", kind: str = "invoice") -> int:
    stored = ctx.files.save("pdf", b"%PDF-1.4 test", "x.pdf", PDF)
    with ctx.uow() as uow:
        row = Invoice(customer_id=customer_id, kind=kind, number=number, issued_on=NOV, amount_cents=123450,
                      status=status, pdf_file=stored.stored_name, pdf_name="x.pdf", created_at=ctx.clock())
        uow.session.add(row)
        uow.commit()
        return row.id


def add_expense(ctx, job_id: int, employee_id: int, day: date, cents: int) -> int:
    with ctx.uow() as uow:
        row = Registration(job_id=job_id, employee_id=employee_id, kind="expense", work_date=day, amount_cents=cents,
                           description="Soap", created_at=ctx.clock(), updated_at=ctx.clock())
        uow.session.add(row)
        uow.commit()
        return row.id


def show_overview(ctx, customer_id: int, on: bool = True) -> None:
    with ctx.uow() as uow:
        uow.session.execute(update(Customer).where(Customer.id == customer_id).values(show_hours_overview=on))
        uow.commit()


def set_flags(ctx, admin, **off: bool) -> None:
    flags = {name: name not in off for name in company_settings.PORTAL_FLAGS}
    company_settings.update_company_settings(ctx, staff=admin, customer_approval_enabled=True, approval_period="P7D",
                                             reminder_interval="P2D", minimum_resume_period="P1D",
                                             period_end_action="auto_approve", **flags)


@pytest.fixture
def eli(ctx, office):
    return create_staff_user(ctx, "eli@example.com", "Eli Employee", "employee", PASSWORD)


@pytest.fixture
def timesheet(ctx, office, customer, job, eli):
    """Two hours (one with a visit of two photos that day), one expense, all sent for approval."""
    _, manager = office
    show_overview(ctx, customer["id"])
    hours = [add_hours(ctx, job["id"], eli.id, NOV), add_hours(ctx, job["id"], manager.id, NOV + timedelta(1), 60)]
    visit_id, photo_ids = add_visit(ctx, customer["id"], job["id"], eli.id, NOV, photos=2)
    expense = add_expense(ctx, job["id"], eli.id, NOV, 1250)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    return {"instance_id": iid, "hours": hours, "expense": expense, "visit_id": visit_id, "photo_ids": photo_ids}


@pytest.fixture
def other(ctx, office):
    """Customer B with portal access, a job under approval, a visit photo and an invoice."""
    _, manager = office
    created = customers.create_customer(ctx, staff=manager, name="Other Ltd", contact_name="Ola",
                                        contact_email="ola@other.example")
    customers.set_portal_access(ctx, created["id"], True, staff=manager)
    show_overview(ctx, created["id"])
    other_job = jobs.create_job(ctx, created["id"], staff=manager, name="Gutters", requires_customer_approval=True)
    add_hours(ctx, other_job["id"], manager.id, NOV)
    iid = approvals.send_job_for_approval(ctx, other_job["id"], staff=manager)
    visit_id, (photo_id,) = add_visit(ctx, created["id"], other_job["id"], manager.id, NOV, photos=1)
    task_id = list_review_tasks(ctx, contact(created["id"]), created["id"])[0]["id"]
    return {"id": created["id"], "job_id": other_job["id"], "instance_id": iid, "photo_id": photo_id,
            "visit_id": visit_id, "invoice_id": add_document(ctx, created["id"], "2026-900"), "task_id": task_id}
