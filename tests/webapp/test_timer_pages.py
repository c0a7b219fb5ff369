"""/instances/timers: what fires when across the cases in the viewer's scope, missed timers marked, the catch-up
choice of a reminder saved and told in the case's history, "Fire now" back to the list, bad input a 400."""

import re

import pytest

from engine.services.customers import create_customer
from engine.services.instances import start_instance
from engine.services.staff_auth import create_staff_user
from tests.engine.helpers import JOB_START, events, timers
from tests.webapp.conftest import PASSWORD, log_in


def _page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(ctx, deploy, manager):
    """Mia's case (Mill House) and Bo's case (Harbour Cafe), each waiting with a reminder and a deadline."""
    deploy("bpmn/job_approval.bpmn")
    bo = create_staff_user(ctx, "bo@example.com", "Bo Manager", "manager", PASSWORD)
    mine = start_instance(ctx, "job_approval", {
        **JOB_START, "customer_id": create_customer(ctx, staff=manager, name="Mill House")["id"]})
    theirs = start_instance(ctx, "job_approval", {
        **JOB_START, "customer_id": create_customer(ctx, staff=bo, name="Harbour Cafe")["id"]})
    return mine, theirs


def _reminder(ctx, iid: int):
    return next(t for t in timers(ctx, iid) if t.element_id == "reminder_due")


def test_a_manager_sees_what_fires_when_for_own_customers_only(ctx, world, as_manager):
    mine, theirs = world
    page = _page(as_manager.get("/instances/timers"))
    rows = re.findall(r'<tr data-timer="\d+">(.*?)</tr>', page, re.S)
    assert len(rows) == 2 and all(f'href="/instances/{mine}"' in row and "Mill House" in row for row in rows)
    assert f'href="/instances/{theirs}"' not in page and "Harbour Cafe" not in page
    assert "due in 2 days" in rows[0] and "Reminder due" in rows[0] and "reminder" in rows[0]
    assert "due in 7 days" in rows[1] and "deadline" in rows[1] and "always fires" in rows[1]
    assert "missed (the worker was down)" not in page and 'href="/instances/timers">Timers</a>' in page  # the nav link


def test_a_timer_the_worker_did_not_fire_is_marked_missed(ctx, world, client, manager, clock):
    clock.advance(days=3)  # no sweep ran
    log_in(client, manager.email)
    page = _page(client.get("/instances/timers"))
    assert "overdue by 1 day" in page and page.count("missed (the worker was down)") == 1


def test_the_catch_up_choice_is_saved_and_told_in_the_case_history(ctx, world, as_manager):
    mine, _ = world
    response = as_manager.post("/instances/timers/catch-up", data={
        "instance_id": mine, "element_id": "reminder_due", "choice": "skip", "next": "/instances/timers?process="})
    assert response.status_code == 303 and response.headers["Location"] == "/instances/timers?process="
    page = _page(as_manager.get("/instances/timers"))
    assert f"Case #{mine}: when Reminder due is missed, it will be skipped" in page
    assert '<option value="skip" selected>' in page
    (event,) = events(ctx, mine, "catch_up_set")
    assert event.actor == "mia@example.com" and event.data == {"choice": "skip"}
    assert "Mia Manager chose to skip a missed Reminder due" in _page(as_manager.get(f"/instances/{mine}"))


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"element_id": "reminder_due", "choice": "later"}, 400, "catch-up: &#39;later&#39; is not one of replay, skip"),
    ({"element_id": "period_expired", "choice": "skip"}, 400, "waits on no reminder"),
    ({"element_id": "", "choice": "skip"}, 400, "say which case and which reminder"),
    ({"element_id": "reminder_due", "choice": "skip", "instance_id": "abc"}, 400, "instance_id: not a whole number"),
    ({"element_id": "reminder_due", "choice": "skip", "theirs": True}, 404, "no instance"),
])
def test_a_bad_catch_up_is_refused_and_nothing_changes(ctx, world, as_manager, form, status, message):
    mine, theirs = world
    data = {"instance_id": theirs if form.get("theirs") else mine,
            **{key: value for key, value in form.items() if key != "theirs"}}
    response = as_manager.post("/instances/timers/catch-up", data=data)
    assert response.status_code == status and message in _page(response)
    assert events(ctx, mine, "catch_up_set") == [] and events(ctx, theirs, "catch_up_set") == []


def test_fire_now_from_the_list_comes_back_to_it(ctx, world, as_manager):
    mine, _ = world
    timer = _reminder(ctx, mine)
    response = as_manager.post(f"/instances/{mine}/fire-timer", data={
        "timer_id": timer.id, "reason": "the customer asked", "next": "/instances/timers"})
    assert response.status_code == 303 and response.headers["Location"] == "/instances/timers"
    assert "The timer fired now." in _page(as_manager.get("/instances/timers"))
    (fired,) = events(ctx, mine, "timer_fired_now")
    assert fired.data["reason"] == "the customer asked"
    outside = as_manager.post(f"/instances/{mine}/fire-timer", data={
        "timer_id": _reminder(ctx, mine).id, "reason": "again", "next": "//evil.example/"})
    assert outside.headers["Location"] == f"/instances/{mine}"  # an outside `next` is ignored


def test_the_list_filters_by_process_and_refuses_a_bad_cursor(ctx, world, as_manager):
    assert 'data-timer' not in _page(as_manager.get("/instances/timers?process=timesheet_approval"))
    response = as_manager.get("/instances/timers?cursor=garbage")
    assert response.status_code == 400 and "cursor" in _page(response)


def test_an_employee_may_not_see_the_timers(ctx, world, client, employee):
    log_in(client, employee.email)
    assert client.get("/instances/timers").status_code == 403
