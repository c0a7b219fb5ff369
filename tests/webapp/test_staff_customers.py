"""Customer and job pages: per-field errors with nothing saved, edit, archive/restore, portal access, roles."""

import re

import pytest

from engine.services import customers, jobs
from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app


def _customer(ctx, staff, name="Acme Cleaning", email="ann@acme.example"):
    created = customers.create_customer(ctx, staff=staff, name=name, contact_name="Ann", contact_email=email)
    return created["id"]


def test_list_shows_customers_with_search_and_row_actions(ctx, manager, as_manager, admin_staff):
    cid = _customer(ctx, manager)
    _customer(ctx, manager, name="Bolt Windows")
    page = as_manager.get("/customers?q=acme").get_data(as_text=True)
    assert "<title>Customers · Signoff</title>" in page and '<label for="q">Search</label>' in page
    assert "Acme Cleaning" in page and "Bolt Windows" not in page
    assert all(f'action="/customers/{cid}/{action}"' in page for action in ("archive", "portal-access"))
    assert f'href="/customers/{cid}/edit"' in page


def test_create_with_bad_input_shows_errors_per_field_and_saves_nothing(ctx, as_manager, admin_staff):
    response = as_manager.post("/customers/new", data={
        "name": "", "website": "acme.example", "contact_name": "Ann", "contact_email": "nope",
        "comment": "keep me"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="error" id="name-error">required</p>' in page
    assert "must be a web address starting with http:// or https://" in page
    assert '<p class="error" id="contact_email-error">not an e-mail address</p>' in page
    assert "keep me</textarea>" in page and 'value="acme.example"' in page
    assert customers.list_customers(ctx, include_archived=True, staff=admin_staff) == []


def test_create_customer_then_see_its_page(ctx, as_manager, admin_staff):
    page = as_manager.get("/customers/new").get_data(as_text=True)
    assert all(f'<label for="{name}">' in page for name in ("name", "billing_address", "website", "contact_email"))
    response = as_manager.post("/customers/new", data={
        "name": "Acme Cleaning", "website": "https://acme.example", "contact_name": "Ann",
        "contact_email": "ann@acme.example"}, follow_redirects=True)
    assert response.status_code == 200
    created = customers.list_customers(ctx, staff=admin_staff)
    assert [c["name"] for c in created] == ["Acme Cleaning"] and created[0]["contact_count"] == 1
    assert response.request.path == f"/customers/{created[0]['id']}"
    assert "ann@acme.example" in response.get_data(as_text=True)


def test_edit_customer_and_its_contacts(ctx, manager, as_manager, admin_staff):
    cid = _customer(ctx, manager)
    page = as_manager.get(f"/customers/{cid}/edit").get_data(as_text=True)
    assert 'value="Acme Cleaning"' in page and '<label for="contact-email">E-mail</label>' in page
    bad = as_manager.post(f"/customers/{cid}/edit", data={"name": "", "website": ""})
    assert bad.status_code == 400
    assert customers.get_customer(ctx, cid, staff=admin_staff)["name"] == "Acme Cleaning"
    assert as_manager.post(f"/customers/{cid}/edit", data={"name": "Acme BV", "show_hours_overview": "y"}
                           ).status_code == 302
    got = customers.get_customer(ctx, cid, staff=admin_staff)
    assert got["name"] == "Acme BV" and got["show_hours_overview"] is True
    bad_contact = as_manager.post(f"/customers/{cid}/contacts", data={"name": "Bob", "email": "bob@"})
    assert bad_contact.status_code == 400 and b'id="contact-email-error">not an e-mail address' in bad_contact.data
    assert as_manager.post(f"/customers/{cid}/contacts", data={"name": "Bob", "email": "bob@acme.example"}
                           ).status_code == 302
    contacts = customers.get_customer(ctx, cid, staff=admin_staff)["contacts"]
    assert [c["name"] for c in contacts] == ["Ann", "Bob"]
    assert as_manager.post(f"/customers/{cid}/contacts/{contacts[0]['id']}/remove").status_code == 302
    assert [c["name"] for c in customers.get_customer(ctx, cid, staff=admin_staff)["contacts"]] == ["Bob"]


def test_archive_and_restore(ctx, manager, as_manager, admin_staff):
    cid = _customer(ctx, manager)
    response = as_manager.post(f"/customers/{cid}/archive", follow_redirects=True)
    assert response.request.path == "/customers" and "Acme Cleaning archived" in response.get_data(as_text=True)
    assert customers.list_customers(ctx, staff=admin_staff) == []
    assert f'action="/customers/{cid}/restore"' in as_manager.get("/customers?archived=1").get_data(as_text=True)
    as_manager.post(f"/customers/{cid}/restore", data={"back": "detail"})
    assert [c["id"] for c in customers.list_customers(ctx, staff=admin_staff)] == [cid]


def test_grant_and_revoke_portal_access(ctx, manager, as_manager, admin_staff):
    cid = _customer(ctx, manager)
    as_manager.post(f"/customers/{cid}/portal-access", data={"granted": "1"})
    assert customers.get_customer(ctx, cid, staff=admin_staff)["portal_access"] is True
    assert "Revoke portal access" in as_manager.get("/customers").get_data(as_text=True)
    as_manager.post(f"/customers/{cid}/portal-access", data={"granted": "0"})
    assert customers.get_customer(ctx, cid, staff=admin_staff)["portal_access"] is False


def test_portal_access_without_a_contact_email_is_refused_with_a_message(ctx, manager, as_manager, admin_staff):
    cid = customers.create_customer(ctx, staff=manager, name="No Contacts")["id"]
    response = as_manager.post(f"/customers/{cid}/portal-access", data={"granted": "1"}, follow_redirects=True)
    assert "add a contact with an e-mail address first" in response.get_data(as_text=True)
    assert customers.get_customer(ctx, cid, staff=admin_staff)["portal_access"] is False


def test_create_a_job_for_a_customer(ctx, manager, as_manager, admin_staff):
    cid = _customer(ctx, manager)
    page = as_manager.get(f"/customers/{cid}/jobs/new").get_data(as_text=True)
    assert f'<option selected value="{manager.id}">Mia Manager</option>' in page
    bad = as_manager.post(f"/customers/{cid}/jobs/new", data={
        "name": "", "manager_id": str(manager.id), "period_start": "2026-12-31", "period_end": "2026-12-01"})
    assert bad.status_code == 400 and b'id="period_end-error">must not be before the start' in bad.data
    assert b'id="name-error">required' in bad.data and jobs.list_jobs(ctx, staff=admin_staff) == []
    response = as_manager.post(f"/customers/{cid}/jobs/new", data={
        "name": "Windows, December", "manager_id": str(manager.id), "period_start": "2026-12-01",
        "period_end": "2026-12-31", "requires_customer_approval": "y"}, follow_redirects=True)
    assert response.request.path == f"/customers/{cid}" and "Windows, December" in response.get_data(as_text=True)
    (job,) = jobs.list_jobs(ctx, cid, staff=admin_staff)
    assert job["manager_id"] == manager.id and job["requires_customer_approval"] is True


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/customers"), ("get", "/customers/new"), ("post", "/customers/new"), ("get", "/customers/{id}"),
    ("get", "/customers/{id}/edit"), ("post", "/customers/{id}/edit"), ("post", "/customers/{id}/archive"),
    ("post", "/customers/{id}/restore"), ("post", "/customers/{id}/portal-access"),
    ("post", "/customers/{id}/contacts"), ("get", "/customers/{id}/jobs/new"), ("post", "/customers/{id}/jobs/new"),
])
def test_employees_get_403(ctx, client, employee, admin_staff, method, path):
    cid = _customer(ctx, admin_staff)
    log_in(client, employee.email)
    response = getattr(client, method)(path.format(id=cid), data={"name": "Hacked", "granted": "1"})
    assert response.status_code == 403
    got = customers.get_customer(ctx, cid, staff=admin_staff)
    assert got["name"] == "Acme Cleaning" and not got["archived"] and not got["portal_access"]


def test_anonymous_visitors_go_to_login(client):
    response = client.get("/customers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/customers/999999", "/customers/999999/edit", "/customers/999999/jobs/new"])
def test_unknown_customer_is_404(as_manager, path):
    assert as_manager.get(path).status_code == 404


def test_unknown_customer_post_is_404(as_manager):
    assert as_manager.post("/customers/999999/archive").status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/customers/{id}"), ("get", "/customers/{id}/edit"), ("post", "/customers/{id}/edit"),
    ("post", "/customers/{id}/archive"), ("post", "/customers/{id}/portal-access"),
    ("post", "/customers/{id}/contacts"), ("get", "/customers/{id}/jobs/new"), ("post", "/customers/{id}/jobs/new"),
])
def test_a_manager_gets_404_for_another_managers_customer(ctx, as_manager, manager_staff, admin_staff, method, path):
    cid = _customer(ctx, manager_staff)  # manager A's customer; the logged-in manager (B) has nothing to do with it
    response = getattr(as_manager, method)(path.format(id=cid), data={"name": "Hacked", "granted": "1"})
    assert response.status_code == 404
    assert "Acme Cleaning" not in as_manager.get("/customers?archived=1").get_data(as_text=True)
    got = customers.get_customer(ctx, cid, staff=admin_staff)
    assert got["name"] == "Acme Cleaning" and not got["archived"] and not got["portal_access"]
    assert [c["name"] for c in got["contacts"]] == ["Ann"] and jobs.list_jobs(ctx, staff=admin_staff) == []


def test_forms_and_row_actions_carry_a_working_csrf_token(ctx, manager, admin_staff):
    app = create_app(ctx=ctx, config={"TESTING": True})
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token})
    cid = _customer(ctx, manager)
    assert client.post(f"/customers/{cid}/archive").status_code == 400  # no token: refused, nothing changed
    assert not customers.get_customer(ctx, cid, staff=admin_staff)["archived"]
    page = client.get("/customers").get_data(as_text=True)
    row_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/customers/{cid}/archive", data={"csrf_token": row_token}).status_code == 302
    assert customers.get_customer(ctx, cid, staff=admin_staff)["archived"]


def test_a_job_is_edited_with_per_field_errors_and_nothing_saved_on_bad_input(ctx, as_manager, manager):
    cid = customers.create_customer(ctx, staff=manager, name="Edit Co")["id"]
    job = jobs.create_job(ctx, cid, staff=manager, name="Windows", manager_id=manager.id)
    page = as_manager.get(f"/jobs/{job['id']}/edit").get_data(as_text=True)
    assert 'value="Windows"' in page
    bad = as_manager.post(f"/jobs/{job['id']}/edit", data={"name": "", "manager_id": str(manager.id),
                                                          "period_start": "2026-12-01", "period_end": "2026-11-01"})
    assert bad.status_code == 400 and 'id="name-error"' in bad.get_data(as_text=True)
    assert jobs.list_jobs(ctx, cid, staff=manager)[0]["name"] == "Windows"
    as_manager.post(f"/jobs/{job['id']}/edit", data={"name": "Windows and gutters", "manager_id": str(manager.id),
                                                     "requires_customer_approval": "y"})
    (saved,) = jobs.list_jobs(ctx, cid, staff=manager)
    assert saved["name"] == "Windows and gutters" and saved["requires_customer_approval"] is True
