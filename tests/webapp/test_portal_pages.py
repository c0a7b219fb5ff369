"""The portal pages through the Flask test client (SQLite and PostgreSQL): home, approvals one by one and in bulk,
project views, visits, photos, documents, and nothing of another customer's or of a hidden section."""

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import Registration, WorkflowInstance
from engine.services import approvals, customers, jobs
from engine.services.context import Actor
from engine.services.instances import complete_task
from engine.services.portal_views import list_review_tasks
from engine.storage import IMAGE
from tests.approval_fixtures import NOV, PNG, add_document, add_expense, add_hours, contact, set_flags
from tests.engine.helpers import events, instance, open_tasks
from tests.webapp.conftest import log_in
from tests.webapp.test_portal_login import _codes

DANA = "dana@millhouse.example"


@pytest.fixture
def dana(client, ctx, customer):
    """The test client, logged in to the portal as the Mill House contact."""
    assert client.post("/portal/login", data={"email": DANA}).status_code == 302
    assert client.post("/portal/code", data={"code": _codes(ctx)[-1]}).status_code == 302
    return client


def review_task(ctx, customer_id: int) -> dict:
    (task,) = list_review_tasks(ctx, contact(customer_id), customer_id)
    return task


@pytest.fixture
def three_reviews(ctx, office, customer, job, eli, timesheet):
    """Three open job reviews of Mill House: the timesheet's job and two more."""
    _, manager = office
    for name in ("Gutters", "Roof"):
        extra = jobs.create_job(ctx, customer["id"], staff=manager, name=name, requires_customer_approval=True)
        add_hours(ctx, extra["id"], eli.id, NOV)
        approvals.send_job_for_approval(ctx, extra["id"], staff=manager)
    return [t["id"] for t in list_review_tasks(ctx, contact(customer["id"]), customer["id"])]


def test_home_lists_the_jobs_open_tasks_and_allowed_sections(dana, customer, job, timesheet):
    page = dana.get("/portal/").get_data(as_text=True)
    assert "<title>Mill House · Signoff portal</title>" in page
    assert f'href="/portal/jobs/{job["id"]}?kind=hours"' in page and "Window cleaning" in page
    assert "Waiting for your approval" in page and "/portal/approvals#task-" in page
    assert all(link in page for link in ('href="/portal/visits"', "/portal/documents?kind=invoice"))


def test_the_approvals_page_shows_evidence_deadline_and_the_bpmn_form(dana, ctx, clock, customer, timesheet):
    clock.advance(days=6)
    page = dana.get("/portal/approvals").get_data(as_text=True)
    task = review_task(ctx, customer["id"])
    assert "<title>Approvals · Mill House · Signoff portal</title>" in page
    assert f'class="card approval soon" id="task-{task["id"]}"' in page and "Due soon" in page
    assert "Eli Employee" in page and "check-in 09:05, check-out 11:35" in page and "12.50" in page
    assert "<strong>3:00 h</strong>" in page and "<strong>12.50</strong>" in page  # the approval's totals
    assert all(f'src="/portal/photos/{pid}"' in page for pid in timesheet["photo_ids"])
    assert '<details class="evidence">' in page and "1 visit, 2 photos" in page  # folded out on demand
    action = f'action="/portal/tasks/{task["id"]}"'
    assert page.count(action) == 3 and '<input type="hidden" name="decision" value="approve">' in page
    assert f'<label for="t{task["id"]}-reject-comment">Why do you reject this?</label>' in page
    assert f'<label for="t{task["id"]}-query-comment">Your question</label>' in page
    assert f'<label for="select-{task["id"]}"' in page and '<label for="select-all">' in page


def test_approving_one_task_takes_only_the_forms_own_fields(dana, ctx, customer, other, timesheet):
    task = review_task(ctx, customer["id"])
    with ctx.uow() as uow:
        before = dict(uow.session.get(WorkflowInstance, timesheet["instance_id"]).data)
    done = dana.post(f"/portal/tasks/{task['id']}", data={
        "decision": "approve", "comment": "Fine", "hours": "99", "customer_id": str(other["id"]), "rate": "500"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/portal/approvals")
    row = instance(ctx, timesheet["instance_id"])
    assert row.case_status == "approved"
    assert all(row.data.get(key) == before.get(key) for key in ("hours", "customer_id", "rate"))
    with ctx.uow() as uow:
        rows = {r.id: r for r in uow.session.scalars(select(Registration).where(
            Registration.id.in_(timesheet["hours"])))}
    assert [rows[i].minutes for i in timesheet["hours"]] == [120, 60]
    assert all(r.status == "approved" for r in rows.values())
    assert "Nothing is waiting" in dana.get("/portal/approvals").get_data(as_text=True)


def test_an_incomplete_form_comes_back_with_its_errors(dana, ctx, customer, timesheet):
    task = review_task(ctx, customer["id"])
    refused = dana.post(f"/portal/tasks/{task['id']}", data={"comment": "?"})
    assert refused.status_code == 400 and "decision: required" in refused.get_data(as_text=True)
    assert instance(ctx, timesheet["instance_id"]).case_status == "awaiting_customer"


def test_a_query_without_a_comment_is_refused_on_the_single_form_too(dana, ctx, customer, timesheet):
    task = review_task(ctx, customer["id"])
    refused = dana.post(f"/portal/tasks/{task['id']}", data={"decision": "query", "comment": "  "})
    assert refused.status_code == 400 and "required when decision is query" in refused.get_data(as_text=True)
    assert instance(ctx, timesheet["instance_id"]).case_status == "awaiting_customer"


def test_bulk_reject_reports_each_item_and_one_decided_by_someone_else(dana, ctx, office, customer, three_reviews):
    first, second, third = three_reviews
    reviews = list_review_tasks(ctx, contact(customer["id"]), customer["id"])
    title = next(t["title"] for t in reviews if t["id"] == third)
    customers.add_contact(ctx, customer["id"], staff=office[1], name="Erik", email="erik@millhouse.example")
    colleague = Actor("Erik erik@millhouse.example", frozenset({"customer"}), frozenset({customer["id"]}))
    complete_task(ctx, third, {"decision": "approve"}, colleague)
    done = dana.post("/portal/approvals/bulk", data={"task_id": [str(first), str(second), str(third)],
                                                      "decision": "reject", "comment": "Not done"},
                     follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Results" in page
    assert page.count('<li class="ok">') == 2 and page.count('<li class="failed">') == 1
    assert f"{title}: Erik already approved this on 24 Nov at 09:00." in page
    assert all(f"Rejected: {t['title']}" in page for t in reviews if t["id"] != third)


def test_a_query_without_a_comment_decides_nothing(dana, ctx, customer, three_reviews):
    refused = dana.post("/portal/approvals/bulk", data={"task_id": [str(t) for t in three_reviews],
                                                        "decision": "query", "comment": " "})
    assert refused.status_code == 400 and "Nothing was decided" in refused.get_data(as_text=True)
    assert len(list_review_tasks(ctx, contact(customer["id"]), customer["id"])) == 3


def test_the_project_view_filters_totals_and_decides_registrations(dana, ctx, customer, job, eli, timesheet):
    url = f"/portal/jobs/{job['id']}"
    page = dana.get(url).get_data(as_text=True)
    assert "<strong>Total:</strong> 2 registrations · 3:00" in page and page.count('name="registration_id"') == 2
    only_eli = dana.get(f"{url}?kind=hours&employee={eli.id}&from={NOV}&to={NOV}").get_data(as_text=True)
    assert "<strong>Total:</strong> 1 registration · 2:00" in only_eli and "Max Manager</td>" not in only_eli
    expenses = dana.get(f"{url}?kind=expense").get_data(as_text=True)
    assert "12.50" in expenses and 'aria-current="page">Expenses' in expenses
    first, second = timesheet["hours"]
    done = dana.post(f"{url}/decide", data={"registration_id": [str(first)], "verdict": "reject",
                                            "comment": "Too long", "kind": "hours"}, follow_redirects=True)
    assert "Rejected: 3 Nov, 2:00 h, Windows" in done.get_data(as_text=True)
    with ctx.uow() as uow:
        row = uow.session.get(Registration, first)
        assert (row.customer_decision, row.customer_comment) == ("reject", "Too long")
    assert dana.get(f"{url}?status=approved").status_code == 200
    assert dana.get(f"{url}?kind=everything").status_code == 404


def test_the_project_view_offers_a_change_for_decided_rows_and_select_all_leaves_them(dana, ctx, job, timesheet):
    url, (first, second) = f"/portal/jobs/{job['id']}", timesheet["hours"]
    dana.post(f"{url}/decide", data={"registration_id": [str(first)], "verdict": "reject", "comment": "Too long"})
    page = dana.get(url).get_data(as_text=True)
    assert f'name="change_id" value="{first}"' in page and f'name="registration_id" value="{first}"' not in page
    assert f'name="registration_id" value="{second}"' in page and "“Too long”" in page
    stale = dana.post(f"{url}/decide", data={"registration_id": [str(first), str(second)], "verdict": "approve"},
                      follow_redirects=True)
    assert "kept your earlier verdict" in stale.get_data(as_text=True)
    dana.post(f"{url}/decide", data={"change_id": [str(first)], "verdict": "approve", "comment": "Fine after all"})
    with ctx.uow() as uow:
        decided = {r.id: (r.customer_decision, r.customer_comment) for r in uow.session.scalars(
            select(Registration).where(Registration.id.in_([first, second])))}
    assert decided == {first: ("approve", "Fine after all"), second: ("approve", None)}


def test_the_job_page_says_its_hours_are_under_review_in_a_timesheet(dana, ctx, office, customer, job, eli):
    _, manager = office
    add_hours(ctx, job["id"], eli.id, NOV)
    approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                      period_end="2026-11-30")
    page = dana.get(f"/portal/jobs/{job['id']}").get_data(as_text=True)
    assert "Awaiting customer (hours in a timesheet)" in page and "not sent for approval" not in page.lower()


def test_visits_show_planned_and_actual_times_and_thumbnails(dana, timesheet):
    page = dana.get(f"/portal/visits?from={NOV}&to={NOV}").get_data(as_text=True)
    assert "09:00–11:00" in page and "09:05–11:35" in page and "Eli Employee" in page
    assert all(f'src="/portal/photos/{pid}"' in page for pid in timesheet["photo_ids"])
    assert f"/portal/photos.zip?visit={timesheet['visit_id']}" in page
    calendar = dana.get(f"/portal/calendar?view=month&anchor={NOV}").get_data(as_text=True)
    assert "November 2026" in calendar and "anchor=2026-10-01" in calendar and "Eli Employee" in calendar
    week = dana.get(f"/portal/calendar?view=week&anchor={NOV}").get_data(as_text=True)
    assert "anchor=2026-11-09" in week


def test_photo_downloads_are_locked_down_and_the_zip_holds_them(dana, timesheet):
    pid = timesheet["photo_ids"][0]
    shown = dana.get(f"/portal/photos/{pid}")
    assert shown.data == PNG and shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    assert not shown.headers.get("Content-Disposition", "").startswith("attachment")
    download = dana.get(f"/portal/photos/{pid}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    for query in (f"visit={timesheet['visit_id']}", f"from={NOV}&to={NOV}"):
        packed = dana.get(f"/portal/photos.zip?{query}")
        assert packed.headers["Content-Disposition"].startswith("attachment") and packed.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(packed.data)) as archive:
            assert len(archive.namelist()) == 2 and all(archive.read(n) == PNG for n in archive.namelist())


def test_documents_hide_drafts_and_download_the_pdf(dana, ctx, customer):
    add_document(ctx, customer["id"], "2026-013", status="draft")
    sent = add_document(ctx, customer["id"], "2026-014")
    page = dana.get("/portal/documents?kind=invoice").get_data(as_text=True)
    assert "2026-014" in page and "2026-013" not in page and "1234.50" in page
    pdf = dana.get(f"/portal/documents/{sent}.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment") and "invoice-2026-014.pdf" in \
        pdf.headers["Content-Disposition"]
    assert "No quotes yet" in dana.get("/portal/documents?kind=quote").get_data(as_text=True)


def test_a_contact_gets_404_for_everything_of_another_customer(dana, ctx, customer, job, eli, other):
    receipt = add_expense(ctx, other["job_id"], eli.id, NOV, 500)
    stored = ctx.files.save("receipt", PNG, "bon.png", IMAGE)
    with ctx.uow() as uow:
        uow.session.get(Registration, receipt).receipt_file = stored.stored_name
        uow.commit()
    for url in (f"/portal/jobs/{other['job_id']}", f"/portal/photos/{other['photo_id']}",
                f"/portal/receipts/{receipt}", f"/portal/documents/{other['invoice_id']}.pdf",
                f"/portal/photos.zip?visit={other['visit_id']}", f"/portal/?customer={other['id']}"):
        assert dana.get(url).status_code == 404, url
    refused = dana.post(f"/portal/tasks/{other['task_id']}", data={"decision": "approve"})
    assert refused.status_code == 404
    assert instance(ctx, other["instance_id"]).case_status == "awaiting_customer"


def test_sections_hidden_by_the_settings_give_404(dana, ctx, office, customer, job, timesheet):
    admin, _ = office
    set_flags(ctx, admin, portal_shows_visits=False, portal_shows_invoices=False, portal_shows_expenses=False)
    for url in (f"/portal/visits?from={NOV}&to={NOV + timedelta(days=1)}", "/portal/calendar",
                f"/portal/photos/{timesheet['photo_ids'][0]}", f"/portal/photos.zip?visit={timesheet['visit_id']}",
                "/portal/documents?kind=invoice", f"/portal/jobs/{job['id']}?kind=expense"):
        assert dana.get(url).status_code == 404, url
    home = dana.get("/portal/").get_data(as_text=True)
    assert 'href="/portal/visits"' not in home and "kind=invoice" not in home and "kind=quote" in home
    quotes = dana.get("/portal/documents?kind=quote")
    assert quotes.status_code == 200 and "kind=invoice" not in quotes.get_data(as_text=True)  # no tab, no nav link


def test_an_admin_opens_the_portal_from_the_customer_list_and_acts_under_its_own_name(client, ctx, office, customer,
                                                                                        job):
    admin, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    log_in(client, admin.email)
    assert f'action="/portal/staff-view/{customer["id"]}"' in client.get("/customers").get_data(as_text=True)
    client.post(f"/portal/staff-view/{customer['id']}")
    (task,) = open_tasks(ctx, iid)
    client.post(f"/portal/tasks/{task.id}", data={"decision": "approve", "comment": "Checked on site"})
    (done,) = events(ctx, iid, "task_completed")
    assert done.actor == "staff: Ada Admin" and instance(ctx, iid).case_status == "approved"
