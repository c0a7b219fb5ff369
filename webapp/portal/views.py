"""Portal pages: each view parses input, calls one engine service and renders (or redirects).

A code never appears in a page, a redirect or a log: it travels only in the e-mail.
"""

from flask import flash, g, redirect, render_template, request, session, url_for

from engine.errors import NotAllowed
from engine.services import portal_auth, portal_views
from webapp.extensions import get_ctx
from webapp.portal import bp
from webapp.portal.auth import (
    CHOSEN_CUSTOMER,
    COOKIE,
    LOGIN_COOKIE,
    STAFF_VIEW,
    client_ip,
    forget_login_request,
    forget_session,
    portal_login_required,
    remember_login_request,
    remember_session,
)
from webapp.portal.forms import CodeForm, EmailForm, PlainForm, ResendForm

LOGIN_EMAIL = "portal_login_email"  # only to say "we sent a code to …" on the code page


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = EmailForm()
    if g.portal is not None and request.method == "GET":
        return redirect(url_for("portal.home"))
    status = 200
    if form.validate_on_submit():
        try:
            login_request = portal_auth.request_code(get_ctx(), form.email.data, client_ip())
        except portal_auth.Throttled as err:
            form.form_errors.append(str(err))
            status = 429
        else:
            return _to_code_page(login_request)
    elif request.method == "POST":
        status = 400
    return render_template("portal/login.html", form=form), status


def _to_code_page(login_request: portal_auth.LoginRequest):
    session[LOGIN_EMAIL] = login_request.email
    response = redirect(url_for("portal.code"))
    remember_login_request(response, login_request.token)
    return response


@bp.route("/code", methods=["GET", "POST"])
def code():
    token = request.cookies.get(LOGIN_COOKIE)
    if not token:
        flash("Enter your e-mail address to get a login code.")
        return redirect(url_for("portal.login"))
    form, resend = CodeForm(), ResendForm()
    status = 200
    if request.method == "POST" and request.form.get("resend"):
        if resend.validate_on_submit():
            try:
                return _to_code_page(portal_auth.resend_code(get_ctx(), token, client_ip()))
            except portal_auth.Throttled as err:
                form.form_errors.append(str(err))
                status = 429
            except portal_auth.CodeRejected as err:
                form.form_errors.append(str(err))
                status = 400
    elif form.validate_on_submit():
        try:
            session_token = portal_auth.verify_code(get_ctx(), token, form.code.data, client_ip(),
                                                    request.headers.get("User-Agent", ""),
                                                    old_session_token=request.cookies.get(COOKIE))
        except portal_auth.Throttled as err:
            form.form_errors.append(str(err))
            status = 429
        except portal_auth.CodeRejected as err:
            form.form_errors.append(str(err))
            status = 400
        else:
            return _logged_in(session_token)
    elif request.method == "POST":
        status = 400
    form.code.data = ""  # a rejected code is not echoed back into the page
    return render_template("portal/code.html", form=form, resend=resend, email=session.get(LOGIN_EMAIL, ""),
                           valid_minutes=get_ctx().settings.portal_code_minutes), status


def _logged_in(session_token: str):
    for key in (LOGIN_EMAIL, CHOSEN_CUSTOMER, STAFF_VIEW):
        session.pop(key, None)
    response = redirect(url_for("portal.home"))
    remember_session(response, session_token)
    forget_login_request(response)
    g.portal_drop_cookie = False
    return response


@bp.post("/logout")
def logout():
    PlainForm().validate_on_submit()  # CSRFProtect has already refused a POST without a valid token
    if session.pop(STAFF_VIEW, None):
        session.pop(CHOSEN_CUSTOMER, None)
        flash("Staff view closed.")
        return redirect(url_for("staff.inbox"))
    portal_auth.end_session(get_ctx(), request.cookies.get(COOKIE))
    session.pop(CHOSEN_CUSTOMER, None)
    response = redirect(url_for("portal.login"))
    forget_session(response)
    g.portal_drop_cookie = False
    flash("You are logged out.")
    return response


@bp.get("/", endpoint="home")
@portal_login_required
def home():
    view = portal_views.portal_home(get_ctx(), g.portal_actor, g.portal_customer.id)
    return render_template("portal/home.html", customers=g.portal.customers, current=g.portal_customer, home=view)


@bp.post("/staff-view/<int:customer_id>")
def staff_view(customer_id: int):
    """An admin opens the portal as the customer sees it (no code; ends with the admin's staff session).

    :raises NotAllowed: a staff member who is not an admin. :raises NotFound: unknown customer.
    """
    if g.get("staff") is None:
        return redirect(url_for("staff.login", next=url_for("staff.inbox")))
    if g.staff.role != "admin":
        raise NotAllowed("only admins may open the portal as a customer")
    PlainForm().validate_on_submit()
    portal_auth.staff_view(get_ctx(), customer_id, g.staff.name)  # NotFound for an unknown customer
    session[STAFF_VIEW] = {"customer_id": customer_id, "staff_id": g.staff.id}
    session[CHOSEN_CUSTOMER] = customer_id
    return redirect(url_for("portal.home", customer=customer_id))
