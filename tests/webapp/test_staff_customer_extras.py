"""Customer extras, invoices and staff account pages: roles on the server, scope 404s, per-field errors."""

import io
import re

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from engine.services import customer_extras as extras
from engine.services import customers, invoices
from engine.services.staff_auth import create_staff_user
from tests.webapp.conftest import PASSWORD, log_in

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def admin(ctx):
    return create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)


@pytest.fixture
def as_admin(app, admin):
    client = app.test_client()
    assert log_in(client, admin.email).status_code == 302
    return client


@pytest.fixture
def customer(ctx, manager):
    return customers.create_customer(ctx, staff=manager, name="Acme Cleaning", contact_name="Ann Smith, Jr.",
                                     contact_email="ann@acme.example", contact_mobile="+31 6 1234 5678")


def _outbox(ctx):
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(OutboxMessage)))


def test_list_row_offers_every_function(as_manager, customer):
    page = as_manager.get("/customers").get_data(as_text=True)
    cid = customer["id"]
    for path in ("edit", "journal", "resources", "employees", "message", "qr", "invoices"):
        assert f'href="/customers/{cid}/{path}"' in page
    for action in ("archive", "portal-access", "hours-overview"):
        assert f'action="/customers/{cid}/{action}"' in page
    detail = as_manager.get(f"/customers/{cid}").get_data(as_text=True)
    assert f'href="/customers/{cid}/journal"' in detail and f'href="/customers/{cid}/invoices"' in detail


def test_hours_overview_toggle(ctx, as_manager, customer):
    response = as_manager.post(f"/customers/{customer['id']}/hours-overview", data={"shown": "1"})
    assert response.status_code == 302 and response.location.endswith("/customers")
    assert customers.get_customer(ctx, customer["id"], staff=_staff(ctx, "mia@example.com"))["show_hours_overview"]


def _staff(ctx, email):
    from engine.services.staff_auth import authenticate, resolve_session
    return resolve_session(ctx, authenticate(ctx, email, PASSWORD))


def test_journal_delete_rules_on_the_page(ctx, as_manager, as_admin, manager, admin, customer):
    cid = customer["id"]
    theirs = extras.add_journal_entry(ctx, cid, staff=admin, text="Admin's note")
    page = as_manager.get(f"/customers/{cid}/journal").get_data(as_text=True)
    assert "Admin&#39;s note" in page and f"/journal/{theirs['id']}/delete" not in page
    assert as_manager.post(f"/customers/{cid}/journal", data={"text": " "}).status_code == 400
    assert as_manager.post(f"/customers/{cid}/journal", data={"text": "Mine"}).status_code == 302
    assert as_manager.post(f"/customers/{cid}/journal/{theirs['id']}/delete").status_code == 403
    assert as_admin.post(f"/customers/{cid}/journal/{theirs['id']}/delete").status_code == 302
    assert [e["text"] for e in extras.list_journal(ctx, cid, staff=admin)] == ["Mine"]


def test_resource_link_errors_and_file_download(ctx, as_manager, manager, customer):
    cid = customer["id"]
    bad = as_manager.post(f"/customers/{cid}/resources/link", data={"title": "", "url": "javascript:alert(1)"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and '<p class="error" id="link-title-error">required</p>' in page
    assert 'id="link-url-error">must be a web address starting with http:// or https://' in page
    assert extras.list_resources(ctx, cid, staff=manager) == []
    upload = as_manager.post(f"/customers/{cid}/resources/file", content_type="multipart/form-data",
                             data={"title": "Plan", "file": (io.BytesIO(b"<html>hi</html>"), "plan.html")})
    assert upload.status_code == 302
    [resource] = extras.list_resources(ctx, cid, staff=manager)
    stored = list(ctx.files.root.iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.html", stored[0].name)
    download = as_manager.get(f"/customers/{cid}/resources/{resource['id']}/download")
    assert download.status_code == 200 and download.data == b"<html>hi</html>"
    assert download.headers["Content-Disposition"].startswith("attachment;") and "plan.html" in \
        download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_qr_page_and_vcf(ctx, as_manager, customer):
    cid = customer["id"]
    page = as_manager.get(f"/customers/{cid}/qr").get_data(as_text=True)
    assert "<svg" in page and "Ann Smith, Jr." in page
    contact = customers.get_customer(ctx, cid, staff=_staff(ctx, "mia@example.com"))["contacts"][0]
    vcf = as_manager.get(f"/customers/{cid}/contacts/{contact['id']}/vcard.vcf")
    assert vcf.status_code == 200 and vcf.mimetype == "text/vcard"
    assert "FN:Ann Smith\\, Jr." in vcf.get_data(as_text=True)
    assert vcf.headers["Content-Disposition"].startswith("attachment;")


def test_message_queued_with_the_recipient_and_nothing_on_bad_input(ctx, as_manager, customer):
    cid = customer["id"]
    contact = customers.get_customer(ctx, cid, staff=_staff(ctx, "mia@example.com"))["contacts"][0]
    bad = as_manager.post(f"/customers/{cid}/message", data={"contact_id": str(contact["id"]), "subject": "",
                                                              "body": ""})
    assert bad.status_code == 400 and '<p class="error" id="subject-error">required</p>' in bad.get_data(as_text=True)
    assert _outbox(ctx) == []
    ok = as_manager.post(f"/customers/{cid}/message", data={"contact_id": str(contact["id"]), "subject": "Keys",
                                                             "body": "At reception."})
    assert ok.status_code == 302
    [row] = _outbox(ctx)
    assert row.recipient == "ann@acme.example" and row.template == "message_to_customer"


def test_invoice_pages(ctx, as_manager, manager, customer):
    cid = customer["id"]
    fields = {"number": "2026-001", "issued_on": "2026-11-01", "amount": "1234.50", "status": "draft"}
    fake = as_manager.post(f"/customers/{cid}/invoices/new?kind=invoice", content_type="multipart/form-data",
                           data={**fields, "pdf": (io.BytesIO(b"just text"), "x.pdf")})
    assert fake.status_code == 400 and "x.pdf is not a valid PDF file" in fake.get_data(as_text=True)
    assert invoices.list_invoices(ctx, cid, staff=manager) == []
    ok = as_manager.post(f"/customers/{cid}/invoices/new?kind=invoice", content_type="multipart/form-data",
                         data={**fields, "pdf": (io.BytesIO(PDF), "inv.pdf")})
    assert ok.status_code == 302
    again = as_manager.post(f"/customers/{cid}/invoices/new?kind=invoice", data=fields)
    assert again.status_code == 400 and 'id="number-error">already used' in again.get_data(as_text=True)
    [doc] = invoices.list_invoices(ctx, cid, staff=manager)
    page = as_manager.get(f"/customers/{cid}/invoices?kind=invoice").get_data(as_text=True)
    assert "2026-001" in page and "1234.50" in page
    assert "2026-001" not in as_manager.get(f"/customers/{cid}/invoices?kind=quote").get_data(as_text=True)
    pdf = as_manager.get(f"/customers/{cid}/invoices/{doc['id']}/pdf")
    assert pdf.data == PDF and pdf.headers["Content-Disposition"].startswith("attachment;")
    edit = as_manager.post(f"/customers/{cid}/invoices/{doc['id']}/edit",
                           data={"issued_on": "2026-11-01", "amount": "10", "status": "paid"})
    assert edit.status_code == 302 and invoices.get_invoice(ctx, doc["id"], staff=manager)["amount"] == "10.00"


def test_manager_gets_404_outside_its_scope(ctx, as_manager, admin):
    other = customers.create_customer(ctx, staff=admin, name="Bolt Windows", contact_name="Bo",
                                      contact_email="bo@bolt.example")
    doc = invoices.create_invoice(ctx, other["id"], staff=admin, kind="quote", number="QUOTE-2026-0917",
                                  issued_on="2026-11-01", amount="5", status="sent")
    cid = other["id"]
    for path in ("journal", "resources", "employees", "message", "qr", "invoices", f"invoices/{doc['id']}/edit"):
        assert as_manager.get(f"/customers/{cid}/{path}").status_code == 404, path
    assert as_manager.post(f"/customers/{cid}/hours-overview", data={"shown": "1"}).status_code == 404
    assert "QUOTE-2026-0917" not in as_manager.get("/invoices?kind=quote").get_data(as_text=True)


def test_employee_gets_403_on_admin_and_office_pages(client, employee, customer):
    assert log_in(client, employee.email).status_code == 302
    for path in ("/staff-users", "/staff-users/new", f"/customers/{customer['id']}/journal", "/invoices"):
        assert client.get(path).status_code == 403, path


def test_manager_gets_403_on_staff_pages_and_no_nav_link(as_manager, customer):
    assert as_manager.get("/staff-users").status_code == 403
    assert as_manager.get(f"/customers/{customer['id']}/account-manager").status_code == 403
    assert 'href="/staff-users"' not in as_manager.get("/customers").get_data(as_text=True)


def test_admin_manages_staff_and_deactivation_ends_the_session(ctx, app, as_admin, employee):
    page = as_admin.get("/staff-users").get_data(as_text=True)
    assert 'href="/staff-users">Staff</a>' in page and "eli@example.com" in page
    other = app.test_client()
    assert log_in(other, employee.email).status_code == 302
    assert other.get("/inbox").status_code == 200
    assert as_admin.post(f"/staff-users/{employee.id}/deactivate").status_code == 302
    after = other.get("/inbox")
    assert after.status_code == 302 and "/login" in after.location


def test_create_staff_user_errors_per_field(ctx, as_admin):
    bad = as_admin.post("/staff-users/new", data={"name": "", "email": "nope", "role": "boss", "password": "short"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for field in ("name", "email", "role", "password"):
        assert f'id="{field}-error"' in page
    ok = as_admin.post("/staff-users/new", data={"name": "Nia", "email": "nia@example.com", "role": "manager",
                                                 "password": "long enough secret"})
    assert ok.status_code == 302
    short = as_admin.post("/staff-users/1/password", data={"password": "short"})
    assert short.status_code == 400 and 'id="new-password-error">at least 12 characters' in short.get_data(as_text=True)
