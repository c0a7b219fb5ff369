"""Staff login, logout and server-side session expiry."""

import re

import pytest

from engine.errors import InvalidInput, NotAllowed
from engine.services.staff_auth import authenticate, create_staff_user, deactivate_user, resolve_session
from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app
from webapp.auth import COOKIE


def test_login_with_the_right_password_opens_the_inbox(client, manager):
    response = log_in(client, manager.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    cookie = response.headers["Set-Cookie"]
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=Lax"))
    page = client.get("/inbox")
    assert page.status_code == 200 and b"Mia Manager" in page.data


def test_wrong_password_and_unknown_email_get_the_same_message(client, manager):
    wrong = log_in(client, manager.email, "not the password at all")
    unknown = log_in(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert all(b"wrong e-mail or password" in r.data for r in (wrong, unknown))
    assert client.get("/inbox").status_code == 302


def test_an_empty_login_form_gets_a_message_per_field(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert all(m in response.data for m in (b"Enter your e-mail address.", b"Enter your password."))


def test_pages_redirect_to_login_when_logged_out(client):
    response = client.get("/inbox?due=overdue")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_logout_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(app, as_manager):
    token = as_manager.get_cookie(COOKIE).value
    assert as_manager.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie(COOKIE, token)
    assert thief.get("/inbox").status_code == 302


def test_idle_session_ends_after_30_minutes(as_manager, clock):
    clock.advance(minutes=29)
    assert as_manager.get("/inbox").status_code == 200
    clock.advance(minutes=31)
    response = as_manager.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_ends_after_12_hours_even_when_active(as_manager, clock):
    for _ in range(24):
        clock.advance(minutes=29)
        assert as_manager.get("/inbox").status_code == 200  # 11 h 36 min of steady use
    clock.advance(minutes=25)
    assert as_manager.get("/inbox").status_code == 302


def test_deactivation_ends_the_users_sessions(ctx, as_manager, manager):
    deactivate_user(ctx, manager.id)
    assert as_manager.get("/inbox").status_code == 302
    with pytest.raises(NotAllowed, match="wrong e-mail or password"):
        authenticate(ctx, manager.email, PASSWORD)


def test_post_without_csrf_token_is_refused(ctx, manager):
    client = create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": True}).test_client()
    refused = client.post("/login", data={"email": manager.email, "password": PASSWORD})
    assert refused.status_code == 400 and client.get_cookie(COOKIE) is None
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302


def test_new_accounts_need_a_valid_email_role_and_a_long_password(ctx):
    with pytest.raises(InvalidInput, match="email") as err:
        create_staff_user(ctx, "not-an-address", "X", "boss", "short")
    assert all(word in str(err.value) for word in ("role", "password"))


def test_session_tokens_are_stored_hashed(ctx, manager):
    token = authenticate(ctx, manager.email, PASSWORD)
    assert resolve_session(ctx, token).email == manager.email
    assert resolve_session(ctx, token[:-1] + "x") is None
