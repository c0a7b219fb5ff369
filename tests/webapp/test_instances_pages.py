"""The /instances pages: the case list with its filters and paging, the case page, and the operator actions —
who may use them (managers on their own customers, admins; employees refused; other managers get 404), bad
filters and bad form values as 400 pages that change nothing, and each action in the case's history."""

import json
import re

import pytest
from flask import url_for

from engine.services import case_list
from engine.services.case_story import get_case_story
from engine.services.context import SYSTEM
from engine.services.customer_extras import add_customer_employee
from tests.engine.helpers import events, instance, open_tasks, timers
from tests.engine.ops_world import OPS_FILE, task_at
from tests.webapp.conftest import log_in


@pytest.fixture
def as_max(client, world):
    assert log_in(client, world.max.email).status_code == 302
    return client


def _page(response) -> str:
    return response.get_data(as_text=True)


def _diagram(page: str) -> dict:
    raw = re.search(r'data-diagram="([^"]*)"', page).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))


def test_the_case_list_shows_the_managers_cases_with_where_they_wait(ctx, world, as_max):
    iid = world.start(ctx)
    page = _page(as_max.get("/instances/"))
    row = re.search(rf'<tr data-case="{iid}">(.*?)</tr>', page, re.S).group(1)
    assert "ops_review" in row and "Mill House" in row and "Check the work" in row and "status-running" in row
    assert f'href="/instances/{iid}"' in row and 'href="/instances/"' in page  # the header's Cases link


def test_the_case_list_filters_by_customer_and_status(ctx, world, as_max):
    iid, broken = world.start(ctx), world.start(ctx, divisor=0)
    mine = _page(as_max.get(f"/instances/?customer={world.customer_id}"))
    assert f'data-case="{iid}"' in mine and f'data-case="{broken}"' in mine
    assert f'data-case="{iid}"' not in _page(as_max.get(f"/instances/?customer={world.customer_id + 1}"))
    in_error = _page(as_max.get("/instances/?in_error=yes&status="))
    assert f'data-case="{broken}"' in in_error and f'data-case="{iid}"' not in in_error
    assert "division by zero" in in_error


def test_the_case_list_pages_with_a_cursor_keeping_the_filters(ctx, world, as_max, monkeypatch):
    monkeypatch.setattr(case_list.list_cases, "__defaults__", (None, "", 2))  # pages of two cases
    ids = [world.start(ctx) for _ in range(3)]
    first = _page(as_max.get(f"/instances/?customer={world.customer_id}"))
    assert [f'data-case="{i}"' in first for i in ids] == [False, True, True]  # newest first
    link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert f"customer={world.customer_id}" in link
    second = _page(as_max.get(link))
    assert f'data-case="{ids[0]}"' in second and f'data-case="{ids[2]}"' not in second and 'rel="prev"' in second


@pytest.mark.parametrize(("query", "message"), [
    ("status=nope", "status: &#39;nope&#39; is not one of"),
    ("started_from=yesterday", "started_from: &#39;yesterday&#39; is not a date"),
    ("customer=abc", "customer: &#39;abc&#39; is not a number"),
    ("version=2", "version: needs a process"),
    ("colour=red", "colour: not a filter of the case list"),
    ("cursor=garbage", "cursor"),
])
def test_a_bad_filter_is_a_400_naming_it(ctx, world, as_max, query, message):
    response = as_max.get(f"/instances/?{query}")
    assert response.status_code == 400 and message in _page(response)


def test_a_manager_of_other_customers_and_an_employee_cannot_see_the_case(ctx, world, client):
    iid = world.start(ctx)
    log_in(client, world.mia.email)
    assert f'data-case="{iid}"' not in _page(client.get("/instances/"))
    assert client.get(f"/instances/{iid}").status_code == 404
    assert client.post(f"/instances/{iid}/cancel", data={"reason": "not mine"}).status_code == 404
    client.post("/logout")
    log_in(client, world.eve.email)
    assert client.get("/instances/").status_code == 403 and client.get(f"/instances/{iid}").status_code == 403
    assert client.post(f"/instances/{iid}/cancel", data={"reason": "x"}).status_code == 403
    assert instance(ctx, iid).status == "running"


def test_anonymous_goes_to_the_login_page(client):
    response = client.get("/instances/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_case_page_tells_the_story_with_the_diagram_position(ctx, world, as_max):
    iid = world.start(ctx)
    page = _page(as_max.get(f"/instances/{iid}"))
    assert "Max Manager started the case (version 1)" in page and "Waiting at Check the work" in page
    assert "engine step" in page  # the script task is a detail, folded
    assert "May complete it: Ada Admin, Max Manager" in page and "Reminder due</strong> fires" in page
    diagram = _diagram(page)
    assert diagram["position"][0] == "check_work" and "compute" in diagram["path"]
    assert diagram["xml_url"] == "/processes/download?process=ops_review&version=1"
    assert as_max.get(diagram["xml_url"]).status_code == 200
    assert "modeller/viewer.js" in page and "<script>" not in page


def test_the_case_page_shows_the_error_with_its_element(ctx, world, as_max):
    iid = world.start(ctx, divisor=0)
    page = _page(as_max.get(f"/instances/{iid}"))
    assert "Stopped with an error" in page and "Compute the share" in page and "division by zero" in page
    assert _diagram(page)["error"] == ["compute"]


def test_the_old_endpoint_name_still_builds_the_case_address(app):
    with app.test_request_context():
        assert url_for("staff.instance_detail", instance_id=7) == "/instances/7"


def test_claim_and_reassign_are_flashed_and_in_the_history(ctx, world, as_max):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    response = as_max.post(f"/instances/{iid}/claim", data={"task_id": task}, follow_redirects=True)
    assert response.status_code == 200 and f"You took task {task}" in _page(response)
    response = as_max.post(f"/instances/{iid}/reassign", data={"task_id": task, "to": world.admin.id,
                                                               "reason": "holiday cover"}, follow_redirects=True)
    assert f"Task {task} is now Ada Admin&#39;s." in _page(response)
    assert "holiday cover" in _page(response)  # the timeline shows who and why
    assert [e.actor for e in events(ctx, iid, "task_reassigned")] == ["max@example.com"]


def test_an_action_without_a_reason_is_a_400_and_changes_nothing(ctx, world, as_max):
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    for url, data in ((f"/instances/{iid}/reassign", {"task_id": task, "to": world.admin.id}),
                      (f"/instances/{iid}/cancel", {"reason": "  "}),
                      (f"/instances/{iid}/fire-timer", {"timer_id": timers(ctx, iid)[0].id}),
                      (f"/instances/{iid}/variable", {"name": "divisor", "value": "3"})):
        response = as_max.post(url, data=data)
        assert response.status_code == 400 and "reason: say why" in _page(response), url
    for url, data in ((f"/instances/{iid}/claim", {"task_id": "x"}), (f"/instances/{iid}/claim", {}),
                      (f"/instances/{iid}/variable", {"name": "1st", "value": "3", "reason": "r"}),
                      (f"/instances/{iid}/variable", {"name": "divisor", "value": "five", "reason": "r"})):
        assert as_max.post(url, data=data).status_code == 400, data
    assert instance(ctx, iid).status == "running" and not events(ctx, iid, "variable_set")
    assert open_tasks(ctx, iid)[0].assignee_staff_id is None


def test_fire_a_timer_now_cancel_and_set_a_variable(ctx, world, as_max):
    iid = world.start(ctx)
    reminder = next(t for t in timers(ctx, iid) if t.element_id == "reminder_due")
    response = as_max.post(f"/instances/{iid}/fire-timer", data={"timer_id": reminder.id, "reason": "customer asked"},
                           follow_redirects=True)
    assert "The timer fired now. The case is running." in _page(response)
    as_max.post(f"/instances/{iid}/variable", data={"name": "note", "value": '"urgent"', "reason": "phone call"})
    assert instance(ctx, iid).data["note"] == "urgent"
    response = as_max.post(f"/instances/{iid}/cancel", data={"reason": "customer left"}, follow_redirects=True)
    assert "The case is cancelled" in _page(response) and "cancelled the case: &#39;customer left&#39;" in \
        _page(response)
    assert instance(ctx, iid).status == "cancelled"
    assert f'action="/instances/{iid}/cancel"' not in _page(as_max.get(f"/instances/{iid}"))


def test_retry_after_setting_the_variable_that_broke_the_script(ctx, world, as_max):
    iid = world.start(ctx, divisor=0)
    response = as_max.post(f"/instances/{iid}/retry", data={"reason": "once more"}, follow_redirects=True)
    assert "it failed again: " in _page(response) and "division by zero" in _page(response)
    as_max.post(f"/instances/{iid}/variable", data={"name": "divisor", "value": "5", "reason": "was 0"})
    response = as_max.post(f"/instances/{iid}/retry", data={"reason": "fixed"}, follow_redirects=True)
    assert "Retried the case: it is running now." in _page(response)
    assert get_case_story(ctx, iid, SYSTEM)["status"] == "running"


def test_an_employee_completes_a_task_without_case_links_and_lands_in_the_inbox(ctx, world, deploy, client):
    deploy(OPS_FILE, lane_roles={"Manager": "staff"})  # version 2: employees decide its steps
    add_customer_employee(ctx, world.customer_id, world.eve.id, staff=world.max)
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    log_in(client, world.eve.email)
    inbox = _page(client.get("/inbox"))
    assert f"/tasks/{task}" in inbox and "/instances/" not in inbox
    assert "/instances/" not in _page(client.get(f"/tasks/{task}"))
    response = client.post(f"/tasks/{task}", data={"comment": "looks fine"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["approve_work"]
