"""Portal login state, resolved on the server before every portal request.

`g.portal` is the PortalView (a contact's session, or an admin's staff view) or None; `g.portal_actor` the
engine Actor; `g.portal_customer` the customer chosen in the switcher (?customer=<id>, else the remembered
choice, else the first). The staff view is a flag in the signed Flask session that is honoured only while the
same admin's server-side staff session lives (webapp.auth resolves it first on every request).
"""

import functools

from flask import abort, current_app, g, redirect, request, session, url_for

from engine.errors import NotFound
from engine.services import portal_auth, portal_scope
from webapp.auth import client_ip  # noqa: F401 - the portal views import it from here
from webapp.extensions import get_ctx
from webapp.portal import bp

COOKIE = "signoff_portal"
LOGIN_COOKIE = "signoff_portal_login"  # the login request token the code is bound to
STAFF_VIEW = "portal_staff_view"
CHOSEN_CUSTOMER = "portal_customer"


@bp.before_request
def load_portal() -> None:
    """Set g.portal, g.portal_actor, g.portal_customer (404 for a customer not in the session) and
    g.portal_sections (what the settings let this contact see, for the navigation)."""
    g.portal_drop_cookie = False
    g.portal, g.portal_actor, g.portal_customer, g.portal_sections = None, None, None, {}  # as far as resolved,
    # so an error page rendered when a step below fails (a customer no longer shown) draws the plain header
    view = _staff_view()
    if view is None:
        token = request.cookies.get(COOKIE)
        view = portal_auth.resolve_session(get_ctx(), token) if token else None
        g.portal_drop_cookie = bool(token) and view is None
    if view is None:
        return
    customer = _chosen_customer(view)
    sections = portal_scope.portal_sections(get_ctx(), view.actor, customer.id)
    g.portal, g.portal_actor, g.portal_customer, g.portal_sections = view, view.actor, customer, sections


def _staff_view() -> portal_auth.PortalView | None:
    flag = session.get(STAFF_VIEW)
    if not flag:
        return None
    staff = g.get("staff")
    if staff is None or staff.role != "admin" or staff.id != flag.get("staff_id"):
        session.pop(STAFF_VIEW, None)  # the staff session ended: so does the staff view
        return None
    try:
        return portal_auth.staff_view(get_ctx(), int(flag["customer_id"]), staff.name)
    except NotFound:
        session.pop(STAFF_VIEW, None)
        return None


def _chosen_customer(view: portal_auth.PortalView) -> portal_auth.CustomerRef:
    by_id = {customer.id: customer for customer in view.customers}
    asked = request.args.get("customer")
    if asked is not None:
        if not asked.isascii() or not asked.isdigit() or int(asked) not in by_id:
            abort(404, "This customer is not one of yours.")
        session[CHOSEN_CUSTOMER] = int(asked)
    return by_id.get(session.get(CHOSEN_CUSTOMER)) or view.customers[0]


@bp.after_request
def _forget_dead_cookie(response):
    if g.get("portal_drop_cookie"):
        forget_session(response)
    return response


def _set(response, name: str, token: str, max_age: int) -> None:
    response.set_cookie(name, token, max_age=max_age, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])


def remember_session(response, token: str) -> None:
    _set(response, COOKIE, token, get_ctx().settings.portal_session_days * 86400)


def forget_session(response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")


def remember_login_request(response, token: str) -> None:
    _set(response, LOGIN_COOKIE, token, get_ctx().settings.portal_code_minutes * 60)


def forget_login_request(response) -> None:
    response.delete_cookie(LOGIN_COOKIE, httponly=True, samesite="Lax")


def portal_login_required(view):
    """Send visitors without a live portal session (or staff view) to the portal login page."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("portal") is None:
            return redirect(url_for("portal.login"))
        return view(**kwargs)

    return wrapped
