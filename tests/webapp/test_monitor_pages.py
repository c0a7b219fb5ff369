"""/monitor: a process version's diagram data and table with the cases waiting at each element now and the time
its user tasks took (median, 90th percentile, band), for a period and a customer; scoped to the reader's
customers; bad filters are a 400 naming the field, an unknown version a 404."""

import html
import json
import re
from datetime import timedelta

import pytest

from engine.services.context import SYSTEM
from engine.services.customers import create_customer
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from engine.services.staff_auth import create_staff_user
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START, only_open_task
from tests.webapp.conftest import PASSWORD, log_in

MONITOR = "/monitor/?process=job_approval&version=1"


@pytest.fixture
def reviewed(ctx, deploy, clock, manager):
    """Mia's Mill House: reviews decided after 1 h and 2 h, two still waiting; her Harbour Cafe: one decided after
    6 days, one waiting. Returns the two customers' ids."""
    deploy("bpmn/job_approval.bpmn")
    started = clock.now
    mill, harbour = (create_customer(ctx, staff=manager, name=name)["id"] for name in ("Mill House", "Harbour Cafe"))
    decided = [(mill, timedelta(hours=1)), (mill, timedelta(hours=2)), (harbour, timedelta(days=6))]
    ids = [start_instance(ctx, "job_approval", {**JOB_START, "customer_id": cid}) for cid, _ in decided]
    for iid, (_, after) in zip(ids, decided, strict=True):
        clock.now = started + after
        complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve"})
    for cid in (mill, mill, harbour):
        start_instance(ctx, "job_approval", {**JOB_START, "customer_id": cid})
    return mill, harbour


def _page(response) -> str:
    return response.get_data(as_text=True)


def _row(page: str, element_id: str) -> list[str]:
    """The cells of the table's row of the element, as text."""
    row = re.search(rf'<tr data-element="{element_id}">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def _diagram(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-monitor="([^"]*)"', page).group(1)))


def test_the_page_shows_where_the_cases_wait_and_how_long_reviews_take(reviewed, as_manager):
    page = _page(as_manager.get(MONITOR))
    assert "Job approval, version 1: where the cases are" in page
    # 1 h, 2 h, 6 d: median 2 h, 90th percentile 4.8 days (between one and five days: slow)
    assert _row(page, "review_job") == ["Review the job (review_job)", "3", "0", "3", "2 h", "4 d 19 h", "slow"]
    assert _row(page, "reminder_due")[1:3] == ["0", "3"]  # the waiting cases' reminder timers
    assert _row(page, "answer_query")[3:] == ["0", "—", "—", "—"]
    review = next(e for e in _diagram(page)["elements"] if e["id"] == "review_job")
    assert review["cases_url"] == "/instances/?process=job_approval&version=1&waiting_at=review_job"
    assert (review["waiting"], review["band"], review["median"]) == (3, "slow", "2 h")
    assert _diagram(page)["xml_url"] == "/processes/download?process=job_approval&version=1"
    assert "modeller/monitor.js" in page and "<script>" not in page


def test_the_waiting_count_links_to_the_cases_waiting_there(reviewed, as_manager):
    link = html.unescape(re.search(r'<tr data-element="review_job">.*?<a href="([^"]+)"', _page(
        as_manager.get(MONITOR)), re.S).group(1))
    cases = _page(as_manager.get(link))
    assert cases.count("<tr data-case=") == 3
    assert 'name="waiting_at" size="12" maxlength="200" value="review_job"' in cases  # the form keeps the filter


def test_a_customer_and_a_period_narrow_the_numbers(reviewed, as_manager, clock):
    mill, _ = reviewed
    page = _page(as_manager.get(f"{MONITOR}&customer={mill}"))
    assert _row(page, "review_job")[1:] == ["2", "0", "2", "1 h 30 min", "1 h 54 min", "fast"]
    assert f'<option value="{mill}" selected>Mill House</option>' in page
    review = next(e for e in _diagram(page)["elements"] if e["id"] == "review_job")
    assert review["cases_url"].endswith(f"waiting_at=review_job&customer={mill}")
    day = (clock.now - timedelta(days=6)).date().isoformat()  # the day the first two were decided
    first_day = _page(as_manager.get(f"{MONITOR}&period_from={day}&period_to={day}"))
    assert _row(first_day, "review_job")[1:] == ["3", "0", "2", "1 h 30 min", "1 h 54 min", "fast"]


def test_a_manager_of_other_customers_sees_nothing_of_them(reviewed, client, ctx):
    create_staff_user(ctx, "max@example.com", "Max Manager", "manager", PASSWORD)
    log_in(client, "max@example.com")
    page = _page(client.get(MONITOR))
    assert _row(page, "review_job")[1:] == ["0", "0", "0", "—", "—", "—"]
    assert "Mill House" not in page and "Harbour Cafe" not in page  # nor in the customer choice
    naming_hers = _page(client.get(f"{MONITOR}&customer={reviewed[0]}"))
    assert _row(naming_hers, "review_job")[1:4] == ["0", "0", "0"]


def test_an_employee_is_refused_and_anonymous_goes_to_the_login_page(reviewed, client, employee):
    assert client.get(MONITOR).status_code == 302
    log_in(client, employee.email)
    assert client.get(MONITOR).status_code == 403


@pytest.mark.parametrize(("query", "message"), [
    ("version=1&period_from=yesterday", "from: &#39;yesterday&#39; is not a date"),
    ("version=1&period_to=2026-13-01", "to: &#39;2026-13-01&#39; is not a date"),
    ("version=1&period_from=2026-12-02&period_to=2026-12-01", "to: is before from"),
    ("version=1&customer=Mill", "customer: &#39;Mill&#39; is not a number"),
    ("version=x", "version: not a whole number"),
])
def test_a_bad_filter_is_a_400_naming_it(reviewed, as_manager, query, message):
    response = as_manager.get(f"/monitor/?process=job_approval&{query}")
    assert response.status_code == 400 and message in _page(response)


def test_an_unknown_version_or_process_is_a_404_and_no_process_a_400(reviewed, as_manager):
    assert as_manager.get("/monitor/?process=job_approval&version=4").status_code == 404
    assert as_manager.get("/monitor/?process=nope").status_code == 404
    response = as_manager.get("/monitor/")
    assert response.status_code == 400 and "say which process" in _page(response)


def test_the_version_picker_links_the_other_versions_keeping_the_filters(reviewed, as_manager, ctx):
    xml = (ROOT / "bpmn/job_approval.bpmn").read_text().replace('name="Review the job"', 'name="Review the work"')
    deploy_file(ctx, SYSTEM, xml.encode(), "job_approval.bpmn")
    page = _page(as_manager.get(f"{MONITOR}&customer={reviewed[0]}"))
    assert f'href="/monitor/?process=job_approval&amp;version=2&amp;customer={reviewed[0]}">2</a>' in page
    newest = _page(as_manager.get("/monitor/?process=job_approval"))  # no version: the newest
    assert "Job approval, version 2: where the cases are" in newest
    assert _row(newest, "review_job")[:2] == ["Review the work (review_job)", "0"]


def test_the_processes_list_and_the_case_page_link_to_the_monitor(reviewed, as_manager, ctx):
    link = 'href="/monitor/?process=job_approval&amp;version=1"'
    assert link in _page(as_manager.get("/processes/"))
    iid = start_instance(ctx, "job_approval", {**JOB_START, "customer_id": reviewed[0]})
    assert link in _page(as_manager.get(f"/instances/{iid}"))
