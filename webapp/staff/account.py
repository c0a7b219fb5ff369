"""A staff member's own account: change the password (the current one is required; other sessions end)."""

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from engine.errors import InvalidInput
from engine.services import staff_auth
from webapp.auth import COOKIE, client_ip, login_required
from webapp.extensions import get_ctx
from webapp.staff import bp
from webapp.staff.forms import show_errors


class OwnPasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    password = PasswordField("New password", validators=[DataRequired("Enter a new password.")],
                             description="long, and not a common password")
    confirm = PasswordField("New password again", validators=[EqualTo("password", "The two new passwords differ.")])


@bp.route("/account/password", methods=["GET", "POST"], endpoint="own_password")
@login_required
def own_password():
    form = OwnPasswordForm()
    if form.validate_on_submit():
        try:
            staff_auth.change_password(get_ctx(), request.cookies.get(COOKIE), form.current_password.data,
                                       form.password.data, client_ip())
        except (InvalidInput, staff_auth.Throttled) as err:
            show_errors(form, InvalidInput(str(err)))
        else:
            flash("Password changed. Your other sessions were ended.")
            return redirect(url_for("staff.inbox"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/account/password.html", form=form,
                           password_min_length=get_ctx().settings.password_min_length), status
