"""The Customer Approval screen, the company settings page and each customer's approval policy.

CSRFProtect checks every POST before these views run.
"""

from datetime import date, timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField

from engine.errors import InvalidInput, NotFound
from engine.isotime import month_of
from engine.services import approval_board, approvals, company_settings
from engine.services.staff_scope import ensure_admin
from webapp.auth import login_required, office_required
from webapp.extensions import get_ctx
from webapp.input_guard import parse_int, posted_ids, query_day, query_int
from webapp.pager import page_links, query_cursor
from webapp.staff import bp
from webapp.staff.bindings import bindings_form
from webapp.staff.duration_field import DurationField
from webapp.staff.forms import form_values, options, show_errors

END_ACTIONS = [("auto_approve", "Approve automatically"), ("escalate", "Escalate to the manager")]


class SettingsForm(FlaskForm):
    customer_approval_enabled = BooleanField("Customer approval is enabled")
    approval_period = DurationField("Approval period")
    reminder_interval = DurationField("A reminder every")
    minimum_resume_period = DurationField("Time the customer gets at least after a query is answered")
    period_end_action = SelectField("When the period ends", choices=options(END_ACTIONS))
    portal_shows_hours = BooleanField("Hours")
    portal_shows_expenses = BooleanField("Expenses")
    portal_shows_mileage = BooleanField("Mileage")
    portal_shows_visits = BooleanField("Check-ins with photos")
    portal_shows_invoices = BooleanField("Invoices")
    portal_shows_quotes = BooleanField("Quotes")
    email_one_click_decisions = BooleanField(
        "One-click Approve / Reject links in request and reminder mails",
        description="each link works once, for that item and that contact, until the approval period ends; "
                    "it opens a confirmation page first")
    visits_become_hours = BooleanField(
        "A visit checked out becomes an hours registration by itself",
        description="a draft on the visit's job, with its check-in and check-out times; once per visit")


class PolicyForm(FlaskForm):
    approval_period = DurationField("Approval period", description="empty: the company default")
    reminder_interval = DurationField("A reminder every", description="empty: the company default")
    period_end_action = SelectField("When the period ends", choices=options([("", "Company default"), *END_ACTIONS]))


def _period_args() -> tuple[date, date]:
    """The period asked for; without one, the latest month with unsent hours (approval_board.unsent_hours_month)."""
    asked_from, asked_to = query_day("from"), query_day("to")
    if asked_from is None and asked_to is None:
        return approval_board.unsent_hours_month(get_ctx(), staff=g.staff, today=get_ctx().clock().date())
    first, last = month_of(asked_from or asked_to)
    return asked_from or first, asked_to or last


def _neighbour_months(date_from: date) -> dict:
    """The previous and the next calendar month of the period's start, as (from, to) for links."""
    previous = month_of(date_from.replace(day=1) - timedelta(days=1))
    following = month_of(month_of(date_from)[1] + timedelta(days=1))
    return {"previous": previous, "next": following}


@bp.get("/approvals", endpoint="approvals")
@login_required
def approvals_view():
    ctx = get_ctx()
    approvals.ensure_may_send(g.staff)
    status, customer = request.args.get("status", ""), query_int("customer")
    date_from, date_to = _period_args()
    rows = approval_board.list_approvals(ctx, staff=g.staff, status=status, customer_id=customer,
                                         cursor=query_cursor())
    return render_template(
        "staff/approvals/board.html", rows=rows, pages=page_links(rows), status=status, customer=customer,
        labels=approval_board.STATUS_LABELS,
        jobs=approval_board.list_sendable_jobs(ctx, staff=g.staff), date_from=date_from, date_to=date_to,
        months=_neighbour_months(date_from),
        hours=approval_board.list_unsent_hours(ctx, staff=g.staff, date_from=date_from, date_to=date_to))


@bp.post("/approvals/jobs", endpoint="approvals_send_jobs")
@login_required
def send_jobs():
    """Send each picked job; every job is its own transaction, and the result of each is reported by name."""
    picked = posted_ids("job_id")
    if not picked:
        flash("Pick at least one job to send.")
    ctx = get_ctx()
    names = {job["id"]: f"{job['name']}, {job['customer_name']}"
             for job in approval_board.list_sendable_jobs(ctx, staff=g.staff)} if picked else {}
    for job_id in picked:
        name = names.get(job_id, f"job {job_id}")
        try:
            approvals.send_job_for_approval(ctx, job_id, staff=g.staff)
        except (InvalidInput, NotFound) as err:
            flash(f"Not sent: {name}: {err}")
        else:
            flash(f"Sent for approval: {name}.")
    return redirect(url_for("staff.approvals"))


@bp.post("/approvals/hours", endpoint="approvals_send_hours")
@login_required
def send_hours():
    form = request.form
    customer_id = parse_int(form.get("customer_id"), "customer_id") or 0
    ctx = get_ctx()
    try:
        instance_id = approvals.send_hours_for_approval(ctx, customer_id, staff=g.staff,
                                                        period_start=form.get("period_start", ""),
                                                        period_end=form.get("period_end", ""))
    except (InvalidInput, NotFound) as err:
        flash(f"Hours not sent: {err}")
    else:
        flash(f"Sent for approval: {_name(ctx, instance_id)}.")
    return redirect(url_for("staff.approvals", **{"from": form.get("period_start", ""),
                                                  "to": form.get("period_end", "")}))


def _name(ctx, instance_id: int) -> str:
    return approval_board.approval_names(ctx, staff=g.staff, instance_ids=[instance_id]).get(
        instance_id, f"approval {instance_id}")


@bp.post("/approvals/<int:instance_id>/cancel", endpoint="approval_cancel")
@login_required
def cancel(instance_id: int):
    ctx = get_ctx()
    approvals.cancel_approval(ctx, instance_id, staff=g.staff, reason=request.form.get("reason", ""))
    flash(f"Withdrawn: {_name(ctx, instance_id)}; its work is back to draft.")
    return redirect(url_for("staff.approvals"))


@bp.post("/approvals/<int:instance_id>/resend", endpoint="approval_resend")
@login_required
def resend(instance_id: int):
    """A second press (or a resend of an approval already followed by another) is refused with its reason."""
    ctx = get_ctx()
    try:
        new_id = approvals.resend_approval(ctx, instance_id, staff=g.staff)
    except InvalidInput as err:
        flash(f"Not sent again: {_name(ctx, instance_id)}: {err}.")
    else:
        flash(f"Sent again: {_name(ctx, new_id)}.")
    return redirect(url_for("staff.approvals"))


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@login_required
def settings_view():
    ensure_admin(g.staff)
    ctx = get_ctx()
    current = company_settings.get_company_settings(ctx)
    form = SettingsForm(data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            company_settings.update_company_settings(ctx, staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Settings saved. New approvals use them; running ones keep theirs.")
            return redirect(url_for("staff.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/approvals/settings.html", form=form, bindings_form=bindings_form(),
                           bindings_action=url_for("staff.settings_bindings")), status


@bp.route("/customers/<int:customer_id>/policy", methods=["GET", "POST"], endpoint="customer_policy")
@office_required
def customer_policy(customer_id: int):
    ctx = get_ctx()
    policy = company_settings.get_customer_policy(ctx, customer_id, staff=g.staff)
    form = PolicyForm(data=policy["overrides"] if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            company_settings.set_customer_policy(ctx, customer_id, staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Approval policy of {policy['customer_name']} saved.")
            return redirect(url_for("staff.customer_policy", customer_id=customer_id))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/approvals/policy.html", form=form, policy=policy,
                           bindings_form=bindings_form(customer_id),
                           bindings_action=url_for("staff.customer_bindings", customer_id=customer_id)), status
