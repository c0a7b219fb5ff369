"""Registration, job and visit pages: create through the forms, per-field errors, scope, file headers."""

import io

import pytest

from engine.models import CustomerEmployee, Registration
from engine.services import customers, jobs, registrations, visits
from tests.webapp.conftest import log_in

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 100
PDF = b"%PDF-1.4\n" + b"0" * 100


@pytest.fixture
def job(ctx, manager, employee):
    customer = customers.create_customer(ctx, staff=manager, name="Acme Cleaning")
    created = jobs.create_job(ctx, customer["id"], staff=manager, name="Windows", manager_id=manager.id)
    with ctx.uow() as uow:
        uow.session.add(CustomerEmployee(customer_id=customer["id"], employee_id=employee.id))
        uow.commit()
    return created


@pytest.fixture
def as_employee(client, employee):
    assert log_in(client, employee.email).status_code == 302
    return client


def _uploads(ctx):
    return list(ctx.files.root.iterdir()) if ctx.files.root.exists() else []


def test_nav_and_pages_need_login(client, job):
    assert client.get("/registrations").status_code == 302
    assert client.get(f"/jobs/{job['id']}").status_code == 302
    assert client.get("/visits").status_code == 302


def test_employee_registers_hours_through_the_page(ctx, as_employee, employee, job):
    page = as_employee.get(f"/registrations/new?kind=hours&job={job['id']}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and '<label for="start_time">' in page
    assert f'<option selected value="{job["id"]}">' in page and 'id="employee_id"' not in page
    response = as_employee.post("/registrations/new", data={
        "kind": "hours", "job_id": job["id"], "work_date": "2026-11-23", "start_time": "08:00",
        "end_time": "10:15", "description": "windows"})
    assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{job['id']}"
    listed = registrations.list_registrations(ctx, staff=employee)
    assert [r["minutes"] for r in listed["rows"]] == [135]
    job_page = as_employee.get(f"/jobs/{job['id']}").get_data(as_text=True)
    assert "2:15" in job_page and "Add expense" in job_page
    assert "Registrations</a>" in job_page and "Visits</a>" in job_page


def test_expense_with_receipt_and_download_headers(ctx, as_employee, employee, job):
    response = as_employee.post("/registrations/new", data={
        "kind": "expense", "job_id": str(job["id"]), "work_date": "2026-11-23", "amount": "12.50",
        "receipt": (io.BytesIO(PDF), "bon.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    reg = registrations.list_registrations(ctx, staff=employee)["rows"][0]
    assert reg["amount"] == "12.50" and reg["receipt_name"] == "bon.pdf"
    download = as_employee.get(f"/registrations/{reg['id']}/receipt")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment") and "bon.pdf" in \
        download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_mileage_through_the_page_and_list_totals(ctx, as_manager, manager, employee, job):
    response = as_manager.post("/registrations/new", data={
        "kind": "mileage", "job_id": str(job["id"]), "employee_id": str(employee.id), "work_date": "2026-11-23",
        "distance_km": "42.5", "from_place": "Office", "to_place": "Acme"})
    assert response.status_code == 302
    page = as_manager.get("/registrations?kind=mileage").get_data(as_text=True)
    assert "Office → Acme" in page and "Eli Employee" in page and "42.5" in page and "Total (1)" in page


def test_bad_input_shows_errors_per_field_and_saves_nothing(ctx, as_employee, employee, job):
    response = as_employee.post("/registrations/new", data={
        "kind": "expense", "job_id": str(job["id"]), "work_date": "yesterday", "amount": "1.234",
        "receipt": (io.BytesIO(b"not an image"), "bon.jpg")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="error" id="work_date-error">not a date (YYYY-MM-DD)</p>' in page
    assert '<p class="error" id="amount-error">at most 2 decimals</p>' in page
    assert '<p class="error" id="receipt-error">bon.jpg is not a valid JPG file</p>' in page
    assert 'value="1.234"' in page
    assert registrations.list_registrations(ctx, staff=employee)["rows"] == [] and _uploads(ctx) == []


def test_employee_gets_404_on_someone_elses_registration(ctx, client, manager, employee, job):
    reg = registrations.create_registration(ctx, staff=manager, job_id=job["id"], kind="hours",
                                            work_date="2026-11-23", minutes="60")
    assert log_in(client, employee.email).status_code == 302
    assert client.get(f"/registrations/{reg['id']}/edit").status_code == 404
    assert client.post(f"/registrations/{reg['id']}/delete").status_code == 404
    assert client.get(f"/registrations/{reg['id']}/receipt").status_code == 404
    assert registrations.get_registration(ctx, staff=manager, registration_id=reg["id"])["minutes"] == 60


def test_edit_draft_then_refuse_after_submission(ctx, as_employee, employee, job):
    reg = registrations.create_registration(ctx, staff=employee, job_id=job["id"], kind="hours",
                                            work_date="2026-11-23", minutes="60")
    assert 'value="1:00"' in as_employee.get(f"/registrations/{reg['id']}/edit").get_data(as_text=True)
    data = {"job_id": str(job["id"]), "work_date": "2026-11-23", "minutes": "90"}
    assert as_employee.post(f"/registrations/{reg['id']}/edit", data=data).status_code == 302
    with ctx.uow() as uow:
        uow.session.get(Registration, reg["id"]).status = "submitted"
        uow.commit()
    refused = as_employee.post(f"/registrations/{reg['id']}/edit", data={**data, "minutes": "5"})
    assert refused.status_code == 400 and "status: submitted for approval" in refused.get_data(as_text=True)
    assert registrations.get_registration(ctx, staff=employee, registration_id=reg["id"])["minutes"] == 90


def test_visit_with_photo_upload_and_download_headers(ctx, as_employee, employee, job):
    page = as_employee.get("/visits/new").get_data(as_text=True)
    assert "UTC" in page and 'type="datetime-local"' in page
    response = as_employee.post("/visits/new", data={
        "customer_id": str(job["customer_id"]), "planned_start": "2026-11-24T08:00", "planned_end": "2026-11-24T07:00"})
    assert response.status_code == 400 and "must not be before the planned start" in response.get_data(as_text=True)
    assert visits.list_visits(ctx, staff=employee) == []
    response = as_employee.post("/visits/new", data={
        "customer_id": str(job["customer_id"]), "planned_start": "2026-11-24T08:00", "planned_end": "2026-11-24T10:00"})
    assert response.status_code == 302
    visit_id = visits.list_visits(ctx, staff=employee)[0]["id"]
    bad = as_employee.post(f"/visits/{visit_id}/photos", data={"photos": [(io.BytesIO(JPEG), "a.jpg"),
                                                                          (io.BytesIO(b"<html>"), "b.jpg")]},
                           content_type="multipart/form-data")
    assert bad.status_code == 400 and "b.jpg is not a valid JPG file" in bad.get_data(as_text=True)
    assert _uploads(ctx) == []
    ok = as_employee.post(f"/visits/{visit_id}/photos", data={"photos": [(io.BytesIO(JPEG), "a.jpg")]},
                          content_type="multipart/form-data")
    assert ok.status_code == 302
    photo = visits.get_visit(ctx, staff=employee, visit_id=visit_id)["photos"][0]
    assert f'src="/visits/photos/{photo["id"]}"' in as_employee.get(f"/visits/{visit_id}").get_data(as_text=True)
    inline = as_employee.get(f"/visits/photos/{photo['id']}")
    assert inline.data == JPEG and inline.headers["Content-Type"] == "image/jpeg"
    assert inline.headers["X-Content-Type-Options"] == "nosniff"
    assert not inline.headers.get("Content-Disposition", "").startswith("attachment")
    download = as_employee.get(f"/visits/photos/{photo['id']}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment") and "a.jpg" in \
        download.headers["Content-Disposition"]
    assert as_employee.post(f"/visits/{visit_id}/check-in").status_code == 302
    assert "Check out now" in as_employee.get(f"/visits/{visit_id}").get_data(as_text=True)


def test_employee_gets_404_on_someone_elses_visit_and_photo(ctx, client, manager, employee, job):
    visit = visits.create_visit(ctx, staff=manager, customer_id=job["customer_id"], employee_id=manager.id)
    photo = visits.add_photo(ctx, staff=manager, visit_id=visit["id"], data=JPEG, filename="a.jpg")
    assert log_in(client, employee.email).status_code == 302
    assert client.get(f"/visits/{visit['id']}").status_code == 404
    assert client.get(f"/visits/photos/{photo['id']}").status_code == 404
    assert client.post(f"/visits/photos/{photo['id']}/delete").status_code == 404
    assert client.post(f"/visits/{visit['id']}/check-in").status_code == 404
