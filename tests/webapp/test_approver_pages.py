"""Approvers and e-mail decision links through the Flask test client (SQLite and PostgreSQL): the staff tick, the
read-only portal of a non-approver, the one-click setting, and the link's confirmation and result pages."""

import re

import pytest

from engine.services import approvals, customers
from engine.services.customer_contact import set_approvers
from tests.approval_fixtures import customer, job, office  # noqa: F401 - fixtures
from tests.engine.helpers import instance, open_tasks
from tests.engine.test_email_decisions import one_click, request_mails, tokens
from tests.webapp.conftest import log_in
from tests.webapp.test_portal_login import _codes


@pytest.fixture
def erik(ctx, office, customer):  # noqa: F811
    _, manager = office
    return customers.add_contact(ctx, customer["id"], staff=manager, name="Erik", email="erik@millhouse.example")


@pytest.fixture
def links(ctx, office, customer, job, erik):  # noqa: F811
    """One-click on, the job sent: (instance id, Dana's tokens)."""
    admin, manager = office
    one_click(ctx, admin)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    return iid, tokens(request_mails(ctx, iid)["dana@millhouse.example"])


def test_the_staff_tick_names_the_approvers(client, ctx, office, customer, erik):  # noqa: F811
    _, manager = office
    assert log_in(client, manager.email).status_code == 302
    page = client.get(f"/customers/{customer['id']}/edit").get_data(as_text=True)
    assert f'name="approver_id" value="{erik["id"]}"' in page
    assert "every contact with an e-mail address approves" in page
    response = client.post(f"/customers/{customer['id']}/approvers", data={"approver_id": [str(erik["id"])]},
                           follow_redirects=True)
    assert "Approvers saved: Erik." in response.get_data(as_text=True)
    assert re.search(rf'value="{erik["id"]}"\s+id="approver-{erik["id"]}" checked', response.get_data(as_text=True))
    assert client.post(f"/customers/{customer['id']}/approvers", data={"approver_id": "x"}).status_code == 400


def test_a_contact_who_is_not_an_approver_sees_the_approval_read_only(client, ctx, office, customer, job,  # noqa: F811
                                                                    erik):
    _, manager = office
    set_approvers(ctx, customer["id"], [erik["id"]], staff=manager)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    [task] = open_tasks(ctx, iid)
    assert client.post("/portal/login", data={"email": "dana@millhouse.example"}).status_code == 302
    assert client.post("/portal/code", data={"code": _codes(ctx)[-1]}).status_code == 302
    page = client.get("/portal/approvals").get_data(as_text=True)
    assert "Window cleaning" in page and "Read-only" in page and f'action="/portal/tasks/{task.id}"' not in page
    assert client.post(f"/portal/tasks/{task.id}", data={"decision": "approve"}).status_code in (403, 404)
    assert instance(ctx, iid).case_status == "awaiting_customer"


def test_the_settings_page_switches_one_click_links_on(client, ctx, office):  # noqa: F811
    admin, _ = office
    assert log_in(client, admin.email).status_code == 302
    assert 'name="email_one_click_decisions"' in client.get("/settings").get_data(as_text=True)
    form = {"customer_approval_enabled": "y", "approval_period": "P7D", "reminder_interval": "P2D",
            "minimum_resume_period": "P1D", "period_end_action": "auto_approve", "email_one_click_decisions": "y"}
    assert client.post("/settings", data=form).status_code == 302
    assert re.search(r'<input checked id="email_one_click_decisions"|id="email_one_click_decisions"[^>]*checked',
                     client.get("/settings").get_data(as_text=True))


def test_a_scanner_opening_the_link_decides_nothing_and_the_post_decides(client, ctx, links):
    iid, mine = links
    for _ in range(3):  # a mail scanner, a preview, the contact
        page = client.get(f"/portal/decide/{mine['approve']}")
        assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Approve ‘Window cleaning’ for Mill House?" in text and "portal.css" in text
    assert instance(ctx, iid).case_status == "awaiting_customer"
    done = client.post(f"/portal/decide/{mine['approve']}")
    assert done.status_code == 200 and "Approved: ‘Window cleaning’ for Mill House" in done.get_data(as_text=True)
    assert instance(ctx, iid).case_status == "approved"
    again = client.post(f"/portal/decide/{mine['approve']}")
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert 'href="/portal/login"' in again.get_data(as_text=True)


def test_reject_asks_for_a_reason_on_the_confirmation_page(client, ctx, links):
    iid, mine = links
    assert 'name="comment"' in client.get(f"/portal/decide/{mine['reject']}").get_data(as_text=True)
    refused = client.post(f"/portal/decide/{mine['reject']}", data={"comment": ""})
    assert refused.status_code == 400 and "give a reason for rejecting" in refused.get_data(as_text=True)
    assert instance(ctx, iid).case_status == "awaiting_customer"
    assert client.post(f"/portal/decide/{mine['reject']}", data={"comment": "Not done"}).status_code == 200
    assert instance(ctx, iid).case_status == "rejected"


@pytest.mark.parametrize("token", ["1.2.approve.9999999999.AAAA", "nonsense", "1.2.3.4.5.6", "%00", "a" * 300])
def test_a_bad_link_gets_the_portals_own_page_never_an_error_page(client, ctx, links, token):
    for response in (client.get(f"/portal/decide/{token}"), client.post(f"/portal/decide/{token}")):
        text = response.get_data(as_text=True)
        assert response.status_code in (400, 410) and "Traceback" not in text
        if response.status_code == 410:
            assert "not valid" in text and 'href="/portal/login"' in text and "Back to the inbox" not in text
