"""Staff logins and requests through the pages: Flask-Login, open redirects, throttling, own password, headers,
request size (SQLite and PostgreSQL)."""

import io
import re
from pathlib import Path

import pytest
from flask import g
from flask_login import LoginManager, current_user

from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app
from webapp.auth import COOKIE, safe_next
from webapp.downloads import send_upload

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"
# `next` as the server reads it (after percent-decoding) ...
BYPASSES = [
    "/\t/evil.example/x", "//evil.example/x", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "https:evil.example", "https://evil.example", "http:/evil.example", "javascript:alert(1)",
    "/\r\nLocation: https://evil.example", "evil.example", " //evil.example", "/ /evil.example",
    "/\x00/evil.example", "/\x0b/evil.example", "/\u2028/evil.example", "//\tevil.example", "\t//evil.example",
    "data:text/html,<script>x</script>", "/\x7f/evil.example", "/\u00a0/evil.example",
]
# ... and as an attacker writes it into a link (sent as is, decoded once by the server)
RAW = ["/%09/evil.example/x", "%2F%2Fevil.example", "/%2F/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
       "/%0d%0aLocation:%20https://evil.example", "//%09evil.example", "/%E2%80%A8/evil.example", "%09//evil.example"]


@pytest.mark.parametrize("payload", BYPASSES)
def test_next_never_leaves_the_site(client, manager, payload):
    response = client.post("/login", query_string={"next": payload}, data={"email": manager.email,
                                                                           "password": PASSWORD})
    if "\x00" in payload:  # the input guard refuses a NUL byte anywhere before the login even runs
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    again = client.get("/login", query_string={"next": payload})  # logged in: GET /login follows next too
    assert again.status_code == 302 and again.headers["Location"] == "/inbox"


@pytest.mark.parametrize("payload", RAW)
def test_percent_encoded_next_never_leaves_the_site(client, manager, payload):
    response = client.post("/login?next=" + payload, data={"email": manager.email, "password": PASSWORD})
    assert response.headers["Location"] == "/inbox"


def test_a_path_of_the_app_is_followed_after_login(client, manager):
    asked = client.get("/inbox?due=overdue")
    assert asked.status_code == 302
    response = client.post(asked.headers["Location"], data={"email": manager.email, "password": PASSWORD})
    assert response.headers["Location"] == "/inbox?due=overdue"
    assert safe_next("/customers/3?tab=jobs") == "/customers/3?tab=jobs"


def test_the_portal_login_has_no_redirect_parameter(client, ctx):
    response = client.post("/portal/login?next=//evil.example", data={"email": "ann@acme.example"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_flask_login_resolves_the_server_side_session(app, as_manager, manager):
    assert isinstance(app.login_manager, LoginManager)
    with app.test_request_context("/inbox", headers={"Cookie": f"{COOKIE}={as_manager.get_cookie(COOKIE).value}"}):
        app.preprocess_request()
        assert current_user.is_authenticated and current_user.view == g.staff == manager
        assert g.actor == manager.actor


def test_a_dead_cookie_is_removed(app, ctx, as_manager):
    as_manager.set_cookie(COOKIE, "not-a-session")
    response = as_manager.get("/inbox")
    assert response.status_code == 302 and f"{COOKIE}=;" in response.headers.get("Set-Cookie", "")


def test_wrong_passwords_lock_the_login_page_with_429(client, manager):
    for _ in range(5):
        assert log_in(client, manager.email, "not the password at all").status_code == 401
    locked = log_in(client, manager.email)
    assert locked.status_code == 429 and b"Please wait 15 minutes" in locked.data
    assert client.get_cookie(COOKIE) is None


def test_own_password_change_through_the_page(app, as_manager, manager):
    other = app.test_client()
    assert log_in(other, manager.email).status_code == 302
    assert as_manager.get("/account/password").status_code == 200
    wrong = as_manager.post("/account/password", data={"current_password": "nope", "password": "tulip harbour 77",
                                                       "confirm": "tulip harbour 77"})
    assert wrong.status_code == 400 and b"not your current password" in wrong.data
    common = as_manager.post("/account/password", data={"current_password": PASSWORD, "password": "password123456",
                                                        "confirm": "password123456"})
    assert common.status_code == 400 and b"most common passwords" in common.data
    done = as_manager.post("/account/password", data={"current_password": PASSWORD, "password": "tulip harbour 77",
                                                      "confirm": "tulip harbour 77"})
    assert done.status_code == 302
    assert as_manager.get("/inbox").status_code == 200 and other.get("/inbox").status_code == 302


def test_admin_form_refuses_a_common_password(client, ctx):
    from engine.services.staff_auth import create_staff_user
    create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    log_in(client, "ada@example.com")
    response = client.post("/staff-users/new", data={"name": "Sam Smith", "email": "sam@example.com",
                                                     "role": "employee", "password": "Qwerty123456"})
    assert response.status_code == 400 and b"most common passwords" in response.data


@pytest.mark.parametrize("path", ["/login", "/portal/login", "/no-such-page", "/inbox"])
def test_every_page_sends_the_security_headers(as_manager, path):
    response = as_manager.get(path)
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_and_downloads_keep_their_stricter_policy(app, client):
    app.add_url_rule("/_download", "download", lambda: send_upload(io.BytesIO(b"x"), "x.txt", "text/plain"))
    css = client.get("/static/signoff.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")
    download = client.get("/_download")
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert download.headers["Cache-Control"] == "private, no-store"


def test_templates_have_no_inline_script_or_event_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.IGNORECASE)
    found = [f"{path.relative_to(TEMPLATES)}: {match.group(0)}" for path in TEMPLATES.rglob("*.html")
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert not found


class _CountingStream(io.RawIOBase):
    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        self.read_bytes += len(buffer)
        buffer[:] = b"a" * len(buffer)
        return len(buffer)


def test_a_150_mb_anonymous_post_is_refused_before_it_is_read(app, client):
    stream = _CountingStream()
    response = client.post("/login", content_type="application/x-www-form-urlencoded", environ_overrides={
        "wsgi.input": stream, "CONTENT_LENGTH": str(150 * 1024 * 1024)})
    assert response.status_code == 413 and b"Nothing was saved" in response.data
    assert stream.read_bytes == 0
    assert app.config["MAX_CONTENT_LENGTH"] == app.extensions["signoff_ctx"].settings.upload_max_bytes + 1024 * 1024


def test_a_body_without_a_length_is_cut_off_at_the_limit(ctx):
    from dataclasses import replace
    small = replace(ctx, settings=replace(ctx.settings, upload_max_bytes=1024))
    client = create_app(ctx=small, config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
