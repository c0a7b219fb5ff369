"""The "Processes" selects on the settings page (company-wide) and on a customer's policy page: which process
runs each case type (engine.services.bindings). Their own form, posted to their own URLs, beside the pages'
other forms. CSRFProtect checks every POST before these views run.
"""

from flask import flash, g, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField

from engine.errors import InvalidInput
from engine.services import bindings
from engine.services.staff_scope import ensure_admin
from webapp.auth import login_required, office_required
from webapp.extensions import get_ctx
from webapp.staff import bp
from webapp.staff.forms import options


class BindingsForm(FlaskForm):
    # the service checks the choice (unknown or unfit processes are refused, naming why), after the scope
    job = SelectField("Job approvals run", validate_choice=False)
    timesheet = SelectField("Timesheet approvals run", validate_choice=False)


def bindings_form(customer_id: int | None = None, posted: bool = False) -> BindingsForm:
    """The form with the bindable processes of each case type; a customer's lists "Company default (…)" first.
    `posted`: filled from the request (else from the current bindings)."""
    ctx = get_ctx()
    current = bindings.list_bindings(ctx, g.staff.actor)
    chosen = current.company if customer_id is None else current.per_customer.get(customer_id, {})
    data = {case_type: chosen.get(case_type, "") for case_type in bindings.CASE_TYPES}
    form = BindingsForm(data=data) if posted else BindingsForm(formdata=None, data=data)
    for case_type in bindings.CASE_TYPES:
        choices = [(pid, pid) for pid in bindings.bindable_processes(ctx, case_type)]
        bound = current.company[case_type]
        if customer_id is not None:
            choices.insert(0, ("", f"Company default ({bound})"))
        elif bound not in dict(choices):  # the company's process, even if it no longer passes the check
            choices.insert(0, (bound, bound))
        getattr(form, case_type).choices = options(choices)
    return form


def _save(customer_id: int | None) -> None:
    """Validate and save the posted form; the outcome is flashed (the page shows it after the redirect)."""
    form = bindings_form(customer_id, posted=True)
    chosen = {case_type: getattr(form, case_type).data or None for case_type in bindings.CASE_TYPES}
    try:
        bindings.set_bindings(get_ctx(), g.staff.actor, chosen, customer_id)
    except InvalidInput as err:
        flash(f"Processes not saved: {err}.")
    else:
        flash("Processes saved. New approvals start them; running ones keep theirs.")


@bp.post("/settings/bindings", endpoint="settings_bindings")
@login_required
def save_company_bindings():
    ensure_admin(g.staff)
    _save(None)
    return redirect(url_for("staff.settings"))


@bp.post("/customers/<int:customer_id>/bindings", endpoint="customer_bindings")
@office_required
def save_customer_bindings(customer_id: int):
    _save(customer_id)
    return redirect(url_for("staff.customer_policy", customer_id=customer_id))
