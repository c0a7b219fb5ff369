"""The portal's compact approvals list (SQLite and PostgreSQL): one-click Approve, Reject and Ask with a reason,
results that name the item, a form with more fields than a decision, the portal's own conflict and error pages,
and the decision history with a question and its answer, and the
work-hours page's default period."""

import io

import pytest

from engine.services import approvals, customers, jobs, portal_history
from engine.services.context import SYSTEM, Actor
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task
from engine.services.portal_views import list_review_tasks
from tests.approval_fixtures import NOV, add_hours, contact
from tests.conftest import ROOT
from tests.engine.helpers import events, instance, only_open_task
from tests.webapp import test_portal_pages
from webapp import create_app

DANA = "dana@millhouse.example"
dana = test_portal_pages.dana  # the fixture: the test client logged in as Mill House's contact
ERIK = Actor("Erik erik@millhouse.example", frozenset({"customer"}), frozenset())


@pytest.fixture
def review(ctx, office, customer, job, eli):
    """One job review of Mill House: 3 Nov, 2:00 h of windows by Eli."""
    add_hours(ctx, job["id"], eli.id, NOV)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=office[1])
    (task,) = list_review_tasks(ctx, contact(customer["id"]), customer["id"])
    return {"instance_id": iid, "task_id": task["id"]}


def test_one_click_approve_names_the_item(dana, ctx, review):
    done = dana.post(f"/portal/tasks/{review['task_id']}", data={"decision": "approve"}, follow_redirects=True)
    assert "Approved: Window cleaning: 3 Nov, 2:00 h, Windows" in done.get_data(as_text=True)
    assert instance(ctx, review["instance_id"]).case_status == "approved"


def test_a_rejection_needs_a_reason_and_then_is_recorded_with_it(dana, ctx, review):
    url = f"/portal/tasks/{review['task_id']}"
    refused = dana.post(url, data={"decision": "reject", "comment": "  "})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "say why you reject this" in page
    assert '<details class="reason" open>' in page
    assert instance(ctx, review["instance_id"]).case_status == "awaiting_customer"
    done = dana.post(url, data={"decision": "reject", "comment": "Two windows missed"}, follow_redirects=True)
    assert "Rejected: Window cleaning: 3 Nov, 2:00 h, Windows" in done.get_data(as_text=True)
    (event,) = events(ctx, review["instance_id"], "task_completed")
    assert event.data["comment"] == "Two windows missed" and instance(ctx, review["instance_id"]).case_status == \
        "rejected"


def test_a_colleagues_earlier_decision_lands_on_the_portals_conflict_page(dana, ctx, office, customer, review,
                                                                           clock):
    customers.add_contact(ctx, customer["id"], staff=office[1], name="Erik", email="erik@millhouse.example")
    erik = Actor(ERIK.name, ERIK.roles, frozenset({customer["id"]}))
    clock.advance(days=8, hours=5, minutes=5)  # 2 Dec at 14:05 (UTC)
    complete_task(ctx, review["task_id"], {"decision": "approve"}, erik)
    late = dana.post(f"/portal/tasks/{review['task_id']}", data={"decision": "reject", "comment": "No"})
    page = late.get_data(as_text=True)
    assert late.status_code == 409 and 'class="portal"' in page
    assert "Erik already approved this on 2 Dec at 14:05." in page and 'href="/portal/approvals"' in page
    assert "Back to the inbox" not in page and "no task" not in page
    assert instance(ctx, review["instance_id"]).case_status == "approved"


def test_my_own_earlier_decision_says_you(dana, ctx, review):
    url = f"/portal/tasks/{review['task_id']}"
    dana.post(url, data={"decision": "approve"})
    again = dana.post(url, data={"decision": "approve"})
    assert again.status_code == 409 and "You already approved this on 24 Nov at 09:00." in again.get_data(as_text=True)


def test_portal_errors_use_the_portals_style(dana, ctx, customer, other):
    missing = dana.get("/portal/no-such-page")
    assert missing.status_code == 404 and 'class="portal"' in missing.get_data(as_text=True)
    foreign = dana.post(f"/portal/tasks/{other['task_id']}", data={"decision": "approve"})
    page = foreign.get_data(as_text=True)
    assert foreign.status_code == 404 and 'class="portal"' in page and "Back to the inbox" not in page
    bad_cursor = dana.get("/portal/history?cursor=nonsense")
    assert bad_cursor.status_code == 400 and 'class="portal"' in bad_cursor.get_data(as_text=True)


def test_too_large_and_malformed_portal_requests_get_the_portals_page(dana, review):
    huge = dana.post(f"/portal/tasks/{review['task_id']}", content_type="application/x-www-form-urlencoded",
                     environ_overrides={"wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": str(150 * 1024 * 1024)})
    assert huge.status_code == 413 and 'class="portal"' in huge.get_data(as_text=True)
    bad = dana.get("/portal/visits?from=2026-13-45")
    assert bad.status_code == 400 and 'class="portal"' in bad.get_data(as_text=True)
    assert "Back to the approvals" in bad.get_data(as_text=True)


def test_an_expired_form_in_the_portal_gets_the_portals_page(ctx, customer):
    client = create_app(ctx=ctx, config={"TESTING": True}).test_client()  # CSRF on, as in production
    refused = client.post("/portal/login", data={"email": DANA})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Form expired" in page and 'class="portal"' in page
    assert 'href="/portal/login"' in page and "/inbox" not in page


def test_a_form_with_more_fields_shows_them_instead_of_the_buttons(dana, ctx, office, customer, job, eli):
    xml = (ROOT / "bpmn/job_approval.bpmn").read_text()
    po = ('<camunda:formField id="po_number" label="PO number" type="string">'
          '<camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>')
    deploy_file(ctx, SYSTEM, xml.replace('<camunda:formField id="comment" label="Comment" type="string">',
                                    po + '<camunda:formField id="comment" label="Comment" type="string">', 1).encode(),
                   "job_approval.bpmn")
    add_hours(ctx, job["id"], eli.id, NOV)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=office[1])
    task = only_open_task(ctx, iid, "review_job")
    page = dana.get("/portal/approvals").get_data(as_text=True)
    assert f'<label for="t{task.id}-po_number">PO number' in page and "Decide…" in page
    assert '<input type="hidden" name="decision" value="approve">' not in page
    refused = dana.post(f"/portal/tasks/{task.id}", data={"decision": "approve"})
    assert refused.status_code == 400 and "po_number: required" in refused.get_data(as_text=True)
    done = dana.post(f"/portal/tasks/{task.id}", data={"decision": "approve", "po_number": "PO-77"})
    assert done.status_code == 302
    (event,) = events(ctx, iid, "task_completed")
    assert event.data["po_number"] == "PO-77" and instance(ctx, iid).case_status == "approved"


def test_the_history_shows_the_question_and_its_answer_in_scope(dana, ctx, office, customer, review, other):
    _, manager = office
    dana.post(f"/portal/tasks/{review['task_id']}", data={"decision": "query", "comment": "Why two hours?"})
    answer = only_open_task(ctx, review["instance_id"], "answer_query")
    complete_task(ctx, answer.id, {"answer": "Two floors of windows."}, manager.actor)
    complete_task(ctx, other["task_id"], {"decision": "approve", "comment": "Other's secret"},
                  Actor("Ola ola@other.example", frozenset({"customer"}), frozenset({other["id"]})))
    page = dana.get("/portal/history").get_data(as_text=True)
    assert "Asked a question</span>\n      by You on 24 Nov at 09:00" in page and "Why two hours?" in page
    assert "Answer from Max Manager on 24 Nov at 09:00" in page and "Two floors of windows." in page
    assert "Other&#39;s secret" not in page and "Gutters" not in page
    assert dana.get(f"/portal/history?customer={other['id']}").status_code == 404


def test_the_history_is_keyset_paged(dana, ctx, office, customer, eli):
    for n in range(3):
        extra = jobs.create_job(ctx, customer["id"], staff=office[1], name=f"Job {n}", requires_customer_approval=True)
        add_hours(ctx, extra["id"], eli.id, NOV)
        approvals.send_job_for_approval(ctx, extra["id"], staff=office[1])
    for task in list_review_tasks(ctx, contact(customer["id"]), customer["id"]):
        dana.post(f"/portal/tasks/{task['id']}", data={"decision": "approve"})
    first = portal_history.decision_history(ctx, contact(customer["id"]), customer["id"], size=2)
    second = portal_history.decision_history(ctx, contact(customer["id"]), customer["id"], first.next_cursor, size=2)
    assert len(first) == 2 and len(second) == 1 and not second.next_cursor and second.prev_cursor
    assert {i["task_id"] for i in first}.isdisjoint(i["task_id"] for i in second)


def test_work_hours_on_the_first_of_a_month_show_the_latest_month_with_visits(dana, clock, timesheet):
    clock.advance(days=7)  # 1 Dec: no visits this month yet
    page = dana.get("/portal/visits").get_data(as_text=True)
    assert "showing the latest month with visits" in page and "09:05–11:35" in page
    assert 'href="/portal/visits?from=2026-10-01&amp;to=2026-10-31"' in page
    assert 'href="/portal/visits?from=2026-12-01&amp;to=2026-12-31"' in page
    december = dana.get("/portal/visits?from=2026-12-01&to=2026-12-31").get_data(as_text=True)
    assert "No visits in this period." in december and "latest month" not in december
    calendar = dana.get("/portal/calendar").get_data(as_text=True)
    assert "Visit calendar: November 2026" in calendar and "Eli Employee" in calendar
