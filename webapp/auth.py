"""Staff login state: the session cookie is resolved on the server before every request.

The cookie holds only an opaque token; who it belongs to, and whether it is still alive (12 h absolute,
30 min idle, not logged out, account active), is decided by engine.services.staff_auth on each request.
"""

import functools

from flask import Flask, current_app, g, redirect, request, url_for

from engine.errors import NotAllowed
from engine.services import staff_auth
from engine.services.staff_scope import OFFICE_ROLES
from webapp.extensions import get_ctx

COOKIE = "signoff_staff"


def init_app(app: Flask) -> None:
    app.before_request(load_staff)
    app.after_request(_forget_dead_cookie)


def load_staff() -> None:
    """Set g.staff (StaffView) and g.actor (engine Actor), or None for anonymous requests."""
    token = request.cookies.get(COOKIE)
    staff = staff_auth.resolve_session(get_ctx(), token) if token else None
    g.staff = staff
    g.actor = staff.actor if staff else None
    g.drop_cookie = bool(token) and staff is None


def _forget_dead_cookie(response):
    if g.get("drop_cookie"):
        forget_session(response)
    return response


def remember_session(response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


def forget_session(response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")


def login_required(view):
    """Send anonymous (or expired) visitors to the login page, then back to where they were going."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("staff") is None:
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def office_required(view):
    """Logged in as admin or manager; the check is on the server, a hidden button is only a courtesy."""

    @login_required
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.staff.role not in OFFICE_ROLES:
            raise NotAllowed("only admins and managers may manage customers and jobs")
        return view(**kwargs)

    return wrapped
