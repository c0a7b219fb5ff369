"""Out-of-office stand-ins: a staff member names its own stand-in for a period, sees its current and future
periods (and whom it stands in for) and ends one; an admin does the same for anyone from the staff list.

Who may do what is the engine's (engine.services.delegation): a page for someone else is 403 unless admin.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from engine.errors import InvalidInput
from engine.services import delegation
from webapp.auth import login_required
from webapp.extensions import get_ctx
from webapp.input_guard import parse_int
from webapp.staff import bp
from webapp.staff.forms import options, show_errors
from webapp.staff.staff_users import admin_required


class StandInForm(FlaskForm):
    stand_in = SelectField("Stand-in", validate_choice=False)  # the engine refuses an unknown or inactive one
    starts_on = StringField("From")
    ends_on = StringField("To (included)")


def _page(staff_id: int, own: bool):
    """The stand-in page of `staff_id`: GET shows it, POST names a stand-in (400 with the form on bad input)."""
    ctx = get_ctx()
    person = delegation.list_stand_in_choices(ctx, g.actor, staff_id)
    form = StandInForm()
    form.stand_in.choices = options([("", "Choose a colleague")] + [(str(i), name) for i, name in person["choices"]])
    if request.method == "POST" and form.validate_on_submit():
        try:
            stand_in_id = parse_int(form.stand_in.data, "stand_in")
            if stand_in_id is None:
                raise InvalidInput("stand_in: choose who stands in")
            made = delegation.set_delegation(ctx, g.actor, staff_id, stand_in_id, form.starts_on.data or "",
                                             form.ends_on.data or "")
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"{made['stand_in']} stands in for {'you' if own else made['staff']} from "
                  f"{made['starts_on']} to {made['ends_on']}.")
            return redirect(request.path)
    periods = delegation.list_delegations(ctx, g.actor, staff_id)
    status = 400 if request.method == "POST" else 200
    return render_template("staff/stand_ins.html", form=form, person=person, own=own,
                           covered=[p for p in periods if p["staff_id"] == staff_id],
                           covering=[p for p in periods if p["stand_in_id"] == staff_id]), status


@bp.route("/account/stand-ins", methods=["GET", "POST"], endpoint="own_stand_ins")
@login_required
def own_stand_ins():
    return _page(g.staff.id, own=True)


@bp.route("/staff-users/<int:user_id>/stand-ins", methods=["GET", "POST"], endpoint="staff_user_stand_ins")
@admin_required
def staff_user_stand_ins(user_id: int):
    return _page(user_id, own=user_id == g.staff.id)


@bp.post("/stand-ins/end", endpoint="stand_in_end")
@login_required
def stand_in_end():
    delegation_id = parse_int(request.form.get("delegation_id"), "delegation_id")
    if delegation_id is None:
        abort(400, "delegation_id: which stand-in period to end is missing")
    delegation.end_delegation(get_ctx(), g.actor, delegation_id)  # someone else's period: 403, unknown: 404
    flash("Stand-in period ended.")
    staff_id = parse_int(request.form.get("staff_id"), "staff_id")
    if g.staff.role == "admin" and staff_id is not None and staff_id != g.staff.id:
        return redirect(url_for("staff.staff_user_stand_ins", user_id=staff_id))
    return redirect(url_for("staff.own_stand_ins"))
