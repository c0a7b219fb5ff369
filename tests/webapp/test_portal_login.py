"""Portal login through the pages: e-mailed code, cookies, logout, revocation, an admin's staff view, CSRF."""

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from engine.services import customers
from engine.services.staff_auth import create_staff_user
from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app
from webapp.portal.auth import COOKIE, LOGIN_COOKIE

EMAIL = "ann@acme.example"


def _codes(ctx) -> list[str]:
    with ctx.uow() as uow:
        return [row.context["code"] for row in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "login_code_to_customer")
            .order_by(OutboxMessage.id))]


def _portal_login(client, ctx, email=EMAIL):
    asked = client.post("/portal/login", data={"email": email})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/portal/code")
    return client.post("/portal/code", data={"code": _codes(ctx)[-1]})


@pytest.fixture
def admin(ctx):
    return create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)


@pytest.fixture
def acme(ctx, admin):
    cid = customers.create_customer(ctx, staff=admin, name="Acme Cleaning", contact_name="Ann Archer",
                                    contact_email=EMAIL)["id"]
    customers.set_portal_access(ctx, cid, True, staff=admin)
    return cid


def test_full_login_with_the_emailed_code(client, ctx, acme):
    page = client.get("/portal/login").get_data(as_text=True)
    assert "<title>Log in · Customer portal</title>" in page and 'name="viewport"' in page
    assert '<label for="email">Your e-mail address</label>' in page
    asked = client.post("/portal/login", data={"email": EMAIL})
    assert "HttpOnly" in asked.headers["Set-Cookie"] and LOGIN_COOKIE in asked.headers["Set-Cookie"]
    [code] = _codes(ctx)
    code_page = client.get("/portal/code").get_data(as_text=True)
    assert '<label for="code">Login code</label>' in code_page and code not in code_page
    wrong = client.post("/portal/code", data={"code": "not it"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.get_data(as_text=True)
    done = client.post("/portal/code", data={"code": code})
    assert done.status_code == 302 and done.headers["Location"].endswith("/portal/")
    cookie = next(c for c in done.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "="))
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=Lax"))
    home = client.get("/portal/").get_data(as_text=True)
    assert "Acme Cleaning" in home and "Ann Archer" in home and code not in home


def test_unknown_address_gets_the_same_page_and_no_code(client, ctx, acme):
    unknown = client.post("/portal/login", data={"email": "nobody@example.com"})
    known = client.post("/portal/login", data={"email": EMAIL})
    assert unknown.status_code == known.status_code == 302
    assert unknown.headers["Location"] == known.headers["Location"]
    assert len(_codes(ctx)) == 1


def test_resend_gives_a_new_code_and_the_old_one_stops_working(client, ctx, acme):
    client.post("/portal/login", data={"email": EMAIL})
    first = _codes(ctx)[-1]
    assert client.post("/portal/code", data={"resend": "Resend code"}).status_code == 302
    assert len(_codes(ctx)) == 2
    refused = client.post("/portal/code", data={"code": first})
    assert refused.status_code == 400 and "not right" in refused.get_data(as_text=True)
    for _ in range(3):
        client.post("/portal/code", data={"resend": "Resend code"})
    throttled = client.post("/portal/code", data={"resend": "Resend code"})
    assert throttled.status_code == 429 and "Too many login attempts" in throttled.get_data(as_text=True)
    assert client.post("/portal/code", data={"code": _codes(ctx)[-1]}).status_code == 302


def test_logout_makes_the_old_cookie_useless(client, app, ctx, acme):
    _portal_login(client, ctx)
    token = client.get_cookie(COOKIE).value
    assert client.post("/portal/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie(COOKIE, token)
    assert thief.get("/portal/").headers["Location"].endswith("/portal/login")


def test_revoking_access_makes_the_cookie_useless(client, ctx, acme, admin):
    _portal_login(client, ctx)
    assert client.get("/portal/").status_code == 200
    customers.set_portal_access(ctx, acme, False, staff=admin)
    assert client.get("/portal/").status_code == 302


def test_switcher_offers_only_the_contacts_customers(client, ctx, acme, admin):
    bolt = customers.create_customer(ctx, staff=admin, name="Bolt Windows", contact_name="Ann",
                                     contact_email=EMAIL)["id"]
    customers.set_portal_access(ctx, bolt, True, staff=admin)
    stranger = customers.create_customer(ctx, staff=admin, name="Stranger Ltd")["id"]
    _portal_login(client, ctx)
    page = client.get(f"/portal/?customer={bolt}").get_data(as_text=True)
    assert '<label for="customer-switcher">Customer</label>' in page and "<title>Bolt Windows" in page
    assert "<title>Bolt Windows" in client.get("/portal/").get_data(as_text=True)  # remembered
    assert client.get(f"/portal/?customer={stranger}").status_code == 404


def test_admin_opens_the_staff_view_until_the_staff_session_ends(client, ctx, acme, admin):
    assert log_in(client, admin.email).status_code == 302
    opened = client.post(f"/portal/staff-view/{acme}")
    assert opened.status_code == 302
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "Staff view — acting as Ada Admin" in page and "Acme Cleaning" in page
    client.post("/logout")
    assert client.get("/portal/").headers["Location"].endswith("/portal/login")


@pytest.mark.parametrize("role", ["manager", "employee"])
def test_staff_view_is_for_admins_only(client, ctx, acme, role):
    create_staff_user(ctx, f"{role}@example.com", role.title(), role, PASSWORD)
    assert log_in(client, f"{role}@example.com").status_code == 302
    assert client.post(f"/portal/staff-view/{acme}").status_code == 403
    assert client.get("/portal/").status_code == 302


def test_staff_view_needs_a_staff_login(client, acme):
    assert "/login" in client.post(f"/portal/staff-view/{acme}").headers["Location"]


def test_a_post_without_csrf_token_is_refused(ctx, acme):
    client = create_app(ctx=ctx, config={"TESTING": True}).test_client()
    refused = client.post("/portal/login", data={"email": EMAIL})
    assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    assert _codes(ctx) == []
