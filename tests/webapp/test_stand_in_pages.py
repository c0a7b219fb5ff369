"""The stand-in pages: a staff member names its own stand-in, an admin anyone's; the stand-in's inbox, task and
case pages; the separation of duties in words on the inbox and the task page, and a 403 with them on POST."""

from datetime import timedelta

import pytest

from engine.services.delegation import list_delegations, set_delegation
from engine.services.instances import complete_task
from tests.engine.ops_world import task_at, world  # noqa: F401 - the ops_review world fixture
from tests.webapp.conftest import log_in

SENDER = "You sent this work for approval, so someone else must approve it"


def day(value) -> str:
    return f"{value.day} {value:%b %Y}"


@pytest.fixture
def as_max(client, world):  # noqa: F811
    assert log_in(client, world.max.email).status_code == 302
    return client


def test_a_staff_member_names_its_own_stand_in_and_sees_the_period(ctx, world, clock, as_max):  # noqa: F811
    start, end = clock.now.date() + timedelta(days=2), clock.now.date() + timedelta(days=15)
    page = as_max.get("/account/stand-ins").get_data(as_text=True)
    assert f'<option value="{world.mia.id}">Mia Manager</option>' in page and ">Max Manager</option>" not in page
    response = as_max.post("/account/stand-ins", data={"stand_in": str(world.mia.id), "starts_on": start.isoformat(),
                                                        "ends_on": end.isoformat()}, follow_redirects=True)
    assert response.status_code == 200
    assert f"Mia Manager stands in for you from {day(start)} to {day(end)}." in response.get_data(as_text=True)
    [period] = list_delegations(ctx, world.max.actor, world.max.id)
    assert period["stand_in_id"] == world.mia.id and period["ends_on"] == end.isoformat()


def test_the_stand_in_sees_whom_it_stands_in_for(ctx, world, clock, client):  # noqa: F811
    today = clock.now.date()
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today, today)
    log_in(client, world.mia.email)
    page = client.get("/account/stand-ins").get_data(as_text=True)
    assert f"You stand in for Max Manager from {day(today)} to {day(today)}." in page
    assert "stand_in_end" not in page and 'name="delegation_id"' not in page  # only Max or an admin ends it


def test_bad_input_gives_the_form_back_and_saves_nothing(ctx, world, clock, as_max):  # noqa: F811
    today = clock.now.date().isoformat()
    cases = [({"stand_in": "", "starts_on": today, "ends_on": today}, "choose who stands in"),
             ({"stand_in": str(world.mia.id), "starts_on": "soon", "ends_on": today}, "not a date"),
             ({"stand_in": str(world.max.id), "starts_on": today, "ends_on": today}, "cannot stand in for itself")]
    for data, message in cases:
        response = as_max.post("/account/stand-ins", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert as_max.post("/account/stand-ins", data={"stand_in": "x", "starts_on": today,
                                                   "ends_on": today}).status_code == 400
    assert list_delegations(ctx, world.max.actor, world.max.id) == []


def test_a_period_is_ended_from_the_page_by_its_owner_only(ctx, world, clock, client):  # noqa: F811
    today = clock.now.date()
    made = set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today, today + timedelta(days=3))
    log_in(client, world.mia.email)
    assert client.post("/stand-ins/end", data={"delegation_id": made["id"]}).status_code == 403
    assert client.post("/stand-ins/end", data={}).status_code == 400
    log_in(client, world.max.email)
    response = client.post("/stand-ins/end", data={"delegation_id": made["id"]}, follow_redirects=True)
    assert response.status_code == 200 and "Stand-in period ended." in response.get_data(as_text=True)
    assert list_delegations(ctx, world.max.actor, world.max.id) == []


def test_an_admin_names_a_stand_in_for_anyone_and_others_may_not(ctx, world, clock, client):  # noqa: F811
    today = clock.now.date().isoformat()
    log_in(client, world.admin.email)
    assert f"/staff-users/{world.max.id}/stand-ins" in client.get("/staff-users").get_data(as_text=True)
    response = client.post(f"/staff-users/{world.max.id}/stand-ins",
                           data={"stand_in": str(world.eve.id), "starts_on": today, "ends_on": today},
                           follow_redirects=True)
    assert "Eve Employee stands in for Max Manager from" in response.get_data(as_text=True)
    log_in(client, world.mia.email)
    assert client.get(f"/staff-users/{world.max.id}/stand-ins").status_code == 403
    assert [p["stand_in"] for p in list_delegations(ctx, world.max.actor, world.max.id)] == ["Eve Employee"]


def test_the_stand_in_works_from_its_inbox_through_the_case_page(ctx, world, clock, client):  # noqa: F811
    iid = world.start(ctx)
    task = task_at(ctx, iid, "check_work")
    today = clock.now.date()
    set_delegation(ctx, world.max.actor, world.max.id, world.mia.id, today, today)
    log_in(client, world.mia.email)
    inbox = client.get("/inbox").get_data(as_text=True)
    assert f"/tasks/{task}" in inbox and "standing in for Max Manager" in inbox
    page = client.get(f"/tasks/{task}")
    assert page.status_code == 200 and "You are standing in for Max Manager" in page.get_data(as_text=True)
    assert client.get(f"/instances/{iid}").status_code == 200
    done = client.post(f"/tasks/{task}", data={"comment": ""}, follow_redirects=True)
    assert done.status_code == 200 and done.request.path == f"/instances/{iid}"
    assert "Mia Manager, on behalf of Max Manager completed Check the work" in done.get_data(as_text=True)


def test_the_separation_of_duties_is_explained_and_enforced_on_the_pages(ctx, world, as_max):  # noqa: F811
    iid = world.start(ctx)
    complete_task(ctx, task_at(ctx, iid, "check_work"), {}, world.admin.actor)
    complete_task(ctx, task_at(ctx, iid, "approve_work"), {}, world.max.actor)
    sign_off = task_at(ctx, iid, "sign_off")
    assert SENDER in as_max.get("/inbox").get_data(as_text=True)
    page = as_max.get(f"/tasks/{sign_off}").get_data(as_text=True)
    assert SENDER in page and 'type="submit">Complete' not in page
    refused = as_max.post(f"/tasks/{sign_off}", data={"comment": "mine"})
    assert refused.status_code == 403 and SENDER in refused.get_data(as_text=True)
    assert task_at(ctx, iid, "sign_off") == sign_off
    case = as_max.get(f"/instances/{iid}").get_data(as_text=True)
    assert "not Max Manager: sent the work for approval" in case
