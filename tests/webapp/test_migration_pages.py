"""The /migrations pages: the preview in business terms, the move with a reason recorded in each case's history,
a second run that finds nothing left to move, admins only (a manager gets the 403 page), and bad input as a 400
page naming it with nothing changed."""

import re

import pytest

from engine.services.context import SYSTEM
from engine.services.customers import create_customer
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from engine.services.staff_auth import create_staff_user
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START, events, instance, only_open_task
from tests.webapp.conftest import PASSWORD, log_in

SOURCE = (ROOT / "bpmn/job_approval.bpmn").read_text()
# version 2 lacks "answer_query": a case waiting there cannot move
WITHOUT_ANSWER = SOURCE.replace('"answer_query"', '"answer_question"').replace(">answer_query<", ">answer_question<")


def _page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def cases(ctx, manager):
    """Version 1 with three cases of Mia's customer (two waiting at the review, one at the customer's question),
    then version 2 without the question step; returns (waiting ids, asked id)."""
    deploy_file(ctx, SYSTEM, SOURCE.encode(), "job_approval.bpmn")
    customer = create_customer(ctx, staff=manager, name="Mill House")["id"]
    ids = [start_instance(ctx, "job_approval", {**JOB_START, "customer_id": customer}) for _ in range(3)]
    complete_task(ctx, only_open_task(ctx, ids[2], "review_job").id, {"decision": "query", "comment": "Inside?"})
    deploy_file(ctx, SYSTEM, WITHOUT_ANSWER.encode(), "job_approval.bpmn")
    return ids[:2], ids[2]


@pytest.fixture
def as_admin(ctx, client):
    create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    assert log_in(client, "ada@example.com").status_code == 302
    return client


def _versions(ctx, ids) -> list[int]:
    return [instance(ctx, iid).process_version_id for iid in ids]


def test_the_preview_says_in_words_what_would_move_and_links_the_cases(ctx, cases, as_admin):
    (first, second), asked = cases
    page = _page(as_admin.get("/migrations/?process=job_approval"))  # from: oldest with cases, to: newest
    assert re.search(r'<option value="1" selected>1 \(3 running\)', page)
    assert re.search(r'name="to">\s*<option value="1" >1</option><option value="2" selected>', page)
    assert "2 cases waiting at Review the job will move." in page
    assert ("1 case waiting at Answer the customer&#39;s question cannot move, because Answer the customer&#39;s "
            "question no longer exists in version 2.") in page
    assert all(f'href="/instances/{iid}"' in page for iid in (first, second, asked))
    assert "Move 2 cases" in page and 'name="reason" required' in page
    assert all(events(ctx, iid, "instance_migrated") == [] for iid in (first, second, asked))


def test_the_move_records_who_and_why_and_a_second_run_moves_none(ctx, cases, as_admin):
    (first, second), asked = cases
    before = _versions(ctx, [first, second, asked])
    form = {"process": "job_approval", "from": "1", "to": "2", "reason": "The question step is gone"}
    page = _page(as_admin.post("/migrations/", data=form))
    assert "2 cases waiting at Review the job moved." in page
    assert "stayed, because Answer the customer&#39;s question no longer exists in version 2" in page
    assert f'href="/instances/{first}"' in page and f'href="/instances/{asked}"' in page
    after = _versions(ctx, [first, second, asked])
    assert after[0] == after[1] != before[0] and after[2] == before[2]
    (event,) = events(ctx, first, "instance_migrated")
    assert event.actor == "ada@example.com"
    assert event.data == {"from_version": 1, "to_version": 2, "reason": "The question step is gone"}
    assert "Ada Admin moved the case from version 1 to 2: &#39;The question step is gone&#39;" in _page(
        as_admin.get(f"/instances/{first}"))

    again = as_admin.post("/migrations/", data=form)
    assert again.status_code == 200
    assert "1 case waiting at Answer the customer&#39;s question stayed" in _page(again)
    assert len(events(ctx, first, "instance_migrated")) == 1


def test_a_run_with_no_case_left_says_none_matches(ctx, cases, as_admin):
    (first, _), _ = cases
    form = {"process": "job_approval", "from": "1", "to": "2", "reason": "only the first", "job": "999"}
    page = _page(as_admin.post("/migrations/", data=form))
    assert "No running case of version 1 matches these filters: nothing was moved" in page
    assert events(ctx, first, "instance_migrated") == []


def test_the_filters_narrow_the_preview_and_the_move(ctx, cases, as_admin, manager):
    other = create_customer(ctx, staff=manager, name="Harbour Cafe")["id"]
    page = _page(as_admin.get(f"/migrations/?process=job_approval&from=1&to=2&customer={other}"))
    assert "No running case of version 1 matches these filters: nothing would move." in page
    assert 'method="post"' not in page.split("Moving job_approval")[1]  # no move button
    form = {"process": "job_approval", "from": "1", "to": "2", "reason": "not theirs", "customer": str(other)}
    assert "nothing was moved" in _page(as_admin.post("/migrations/", data=form))
    (first, second), asked = cases
    assert all(events(ctx, iid, "instance_migrated") == [] for iid in (first, second, asked))
    mine = instance(ctx, first).customer_id
    page = _page(as_admin.get(f"/migrations/?process=job_approval&customer={mine}&in_error=yes"))
    assert "nothing would move" in page and f'<option value="{mine}" selected>Mill House' in page


def test_a_manager_is_told_only_admins_migrate(ctx, cases, as_manager):
    (first, _), _ = cases
    response = as_manager.get("/migrations/?process=job_approval")
    assert response.status_code == 403 and "only admins may migrate" in _page(response)
    response = as_manager.post("/migrations/", data={"process": "job_approval", "from": "1", "to": "2",
                                                     "reason": "mine"})
    assert response.status_code == 403
    assert events(ctx, first, "instance_migrated") == []


def test_the_case_list_links_admins_to_the_migration_with_its_filters(ctx, cases, as_admin):
    page = _page(as_admin.get("/instances/?process=job_approval&version=1&status=&customer="))
    assert 'href="/migrations/?process=job_approval&amp;from=1">Move these cases to another version' in page


@pytest.mark.parametrize(("form", "message"), [
    ({"process": "job_approval", "from": "1", "to": "9"}, "to: job_approval has no version 9"),
    ({"process": "nope", "from": "1", "to": "2"}, "process: there is no process &#39;nope&#39;"),
    ({"process": "job_approval", "from": "2", "to": "2"}, "already on version 2"),
    ({"process": "job_approval", "from": "one", "to": "2"}, "from: not a whole number"),
    ({"process": "job_approval", "from": "1", "to": "2", "status": "sleeping"}, "status: &#39;sleeping&#39;"),
    ({"process": "job_approval", "from": "1", "to": "2", "colour": "red"}, "colour: not a filter"),
    ({"process": "job_approval", "from": "1", "to": "2", "version": "1"}, "version: given by the migration"),
    ({"process": "job_approval", "from": "1", "to": "2", "reason": " "}, "reason: say why"),
    ({"process": "job_approval", "to": "2"}, "from: say which version"),
    ({"from": "1", "to": "2"}, "process: say which"),
])
def test_bad_input_is_a_400_naming_it_and_nothing_moves(ctx, cases, as_admin, form, message):
    (first, second), asked = cases
    before = _versions(ctx, [first, second, asked])
    response = as_admin.post("/migrations/", data={"reason": "a reason", **form})
    assert response.status_code == 400 and message in _page(response)
    assert _versions(ctx, [first, second, asked]) == before
    if form.get("process") == "job_approval" and "reason" not in form and form.get("from"):
        query = "&".join(f"{key}={value}" for key, value in form.items())
        response = as_admin.get(f"/migrations/?{query}")
        assert response.status_code == 400 and message in _page(response)
