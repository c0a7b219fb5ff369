"""The company's time zone (SIGNOFF_TIMEZONE): entered times are read in it, days are its days, and pages and
mails show its times; stored times stay UTC. Runs on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from engine.config import Settings
from engine.mail.transport import DevMailbox
from engine.models import CustomerEmployee, OutboxMessage, OutboxStatus, Visit
from engine.services import customers, visits
from engine.services.context import open_context
from engine.services.outbox import deliver_due_messages, get_mail
from engine.services.portal_visits import visits_overview
from engine.services.staff_auth import create_staff_user
from tests.approval_fixtures import PASSWORD, contact
from webapp import create_app

AMSTERDAM = "Europe/Amsterdam"


@pytest.fixture
def zoned(ctx):
    """The test's database, seen by a company in Amsterdam (CET, UTC+1 in November)."""
    context = open_context(replace(ctx.settings, timezone=AMSTERDAM), clock=ctx.clock)
    yield context
    context.db.dispose()


@pytest.fixture
def site(zoned):
    manager = create_staff_user(zoned, "max@example.com", "Max Manager", "manager", PASSWORD)
    employee = create_staff_user(zoned, "eli@example.com", "Eli Employee", "employee", PASSWORD)
    customer = customers.create_customer(zoned, staff=manager, name="Mill House", contact_name="Dana",
                                         contact_email="dana@millhouse.example", show_hours_overview=True)
    customers.set_portal_access(zoned, customer["id"], True, staff=manager)
    with zoned.uow() as uow:
        uow.session.add(CustomerEmployee(customer_id=customer["id"], employee_id=employee.id))
        uow.commit()
    return manager, employee, customer


def test_an_unknown_zone_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv("SIGNOFF_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="SIGNOFF_TIMEZONE: unknown time zone 'Mars/Olympus'"):
        Settings.from_env()


def test_a_visit_entered_in_local_time_is_stored_in_utc(zoned, site):
    manager, employee, customer = site
    made = visits.create_visit(zoned, staff=manager, customer_id=customer["id"], employee_id=employee.id,
                               planned_start="2026-11-03T09:00", planned_end="2026-11-03T12:30")
    with zoned.uow() as uow:
        stored = uow.session.get(Visit, made["id"])
    assert stored.planned_start == datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    assert stored.planned_end == datetime(2026, 11, 3, 11, 30, tzinfo=UTC)


def test_a_late_evening_visit_belongs_to_its_local_day_in_the_portal(zoned, site):
    manager, employee, customer = site
    visits.create_visit(zoned, staff=manager, customer_id=customer["id"], employee_id=employee.id,
                        checked_in_at="2026-11-02T23:30:00+00:00", checked_out_at="2026-11-03T01:00:00+00:00")
    dana = contact(customer["id"])
    assert visits_overview(zoned, dana, customer["id"], date(2026, 11, 2), date(2026, 11, 2)) == []
    (shown,) = visits_overview(zoned, dana, customer["id"], date(2026, 11, 3), date(2026, 11, 3))
    assert shown["date"] == "2026-11-03" and shown["checked_in_at"] == "2026-11-03T00:30:00+01:00"
    staff_list = visits.list_visits(zoned, staff=manager, date_from="2026-11-03", date_to="2026-11-03")
    assert [v["id"] for v in staff_list] == [shown["id"]]


def test_pages_and_mails_show_the_company_time(zoned, site):
    manager, employee, customer = site
    made = visits.create_visit(zoned, staff=manager, customer_id=customer["id"], employee_id=employee.id,
                               planned_start="2026-11-03T09:00", planned_end="2026-11-03T12:00")
    client = create_app(ctx=zoned, config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    page = client.get(f"/visits/{made['id']}").get_data(as_text=True)
    assert "03 Nov 2026 09:00 CET" in page and "Europe/Amsterdam" in client.get("/visits/new").get_data(as_text=True)
    with zoned.uow() as uow:
        row = OutboxMessage(template="reminder_to_customer", audience="customer", recipient="dana@millhouse.example",
                            context={"title": "Windows", "deadline": "2026-11-10T16:00:00+00:00"},
                            created_at=zoned.clock(), status=OutboxStatus.PENDING)
        uow.session.add(row)
        uow.commit()
    deliver_due_messages(zoned, DevMailbox())
    assert "Tuesday 10 November 2026, 17:00 CET" in get_mail(zoned, row.id)["text"]
