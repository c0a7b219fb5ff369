"""Staff login state through Flask-Login: the session cookie is resolved on the server before every request.

The cookie holds only an opaque token; who it belongs to, and whether it is still alive (12 h absolute,
30 min idle, not logged out, account active), is decided by engine.services.staff_auth on each request,
in the LoginManager's request loader. Flask-Login's own session and remember-me cookies are not used.
`g.staff` (the StaffView) and `g.actor` (its engine Actor) are set from `current_user` for every request.
"""

import functools
import unicodedata
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import UserMixin, current_user, login_required
from sqlalchemy.exc import OperationalError

from engine.errors import NotAllowed
from engine.services import staff_auth
from engine.services.staff_scope import OFFICE_ROLES
from webapp.extensions import get_ctx, login_manager

COOKIE = "signoff_staff"

__all__ = ["COOKIE", "client_ip", "forget_session", "init_app", "login_required", "office_required",
           "remember_session", "safe_next"]


class StaffLogin(UserMixin):
    """Flask-Login's user: the StaffView of a live server-side session."""

    def __init__(self, view: staff_auth.StaffView):
        self.view = view

    def get_id(self) -> str:
        return str(self.view.id)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the session lives on the server, not in Flask's cookie
    login_manager.request_loader(_load_from_cookie)
    login_manager.unauthorized_handler(_to_login_page)
    app.before_request(load_staff)
    app.after_request(_forget_dead_cookie)


def _load_from_cookie(req) -> StaffLogin | None:
    token = req.cookies.get(COOKIE)
    try:
        staff = staff_auth.resolve_session(get_ctx(), token) if token else None
    except OperationalError as err:
        # Anonymous for the rest of the request, so the error page's layout does not ask the database again;
        # load_staff raises the error once, for the 503 page.
        g.database_unreachable = err
        return None
    g.drop_cookie = bool(token) and staff is None
    return StaffLogin(staff) if staff else None


def _to_login_page():
    """Anonymous (or expired): to the login page, then back to where the visitor was going (`?next=/inbox`)."""
    return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))


def load_staff() -> None:
    """Set g.staff (StaffView) and g.actor (engine Actor), or None for anonymous requests."""
    user = current_user._get_current_object()
    if g.get("database_unreachable") is not None:
        raise g.database_unreachable
    g.staff = user.view if user.is_authenticated else None
    g.actor = g.staff.actor if g.staff else None


def _forget_dead_cookie(response):
    if g.get("drop_cookie"):
        forget_session(response)
    return response


def remember_session(response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


def forget_session(response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")


def client_ip() -> str:
    """The peer address (behind a proxy, configure werkzeug's ProxyFix so this is the client's)."""
    return request.remote_addr or "unknown"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path of this app, else None: the login page must not be an open redirect.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so `/\\tevil`, `/\\evil`
    and `//evil` all leave the site; only printable characters with no backslash are accepted, the path
    must start with one slash, and what is left must have neither a scheme nor a host.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(unicodedata.category(char)[0] in "CZ" for char in target):  # control, format, spaces, separators
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def office_required(view):
    """Logged in as admin or manager; the check is on the server, a hidden button is only a courtesy."""

    @login_required
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.staff.role not in OFFICE_ROLES:
            raise NotAllowed("only admins and managers may manage customers and jobs")
        return view(**kwargs)

    return wrapped
