"""Staff account pages under /staff-users (admins only; everyone else gets 403, checked on the server).

Create, edit (name, role, may send for approval), set a password, deactivate (ends the account's sessions
at once) and reactivate. Bad input gives the form back (400) with a message per field and nothing saved.
"""

import functools

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField

from engine.errors import InvalidInput
from engine.models import StaffRole
from engine.services import staff_users
from engine.services.staff_scope import ensure_admin
from webapp.auth import login_required
from webapp.extensions import get_ctx
from webapp.staff import bp
from webapp.staff.forms import form_values, options, show_errors

ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in StaffRole]


class StaffUserForm(FlaskForm):
    name = StringField("Name")
    role = SelectField("Role", choices=options(ROLE_CHOICES), validate_choice=False)
    may_send_for_approval = BooleanField("May send work for customer approval")


class NewStaffUserForm(StaffUserForm):
    email = EmailField("E-mail")
    password = PasswordField("Password", description="at least 12 characters")


class PasswordForm(FlaskForm):
    password = PasswordField("New password", description="at least 12 characters")


def admin_required(view):
    """Logged in as admin; anyone else gets 403."""

    @login_required
    @functools.wraps(view)
    def wrapped(**kwargs):
        ensure_admin(g.staff)
        return view(**kwargs)

    return wrapped


@bp.get("/staff-users", endpoint="staff_users")
@admin_required
def staff_user_list():
    return render_template("staff/staff_users/list.html", users=staff_users.list_staff_users(get_ctx(), staff=g.staff))


@bp.route("/staff-users/new", methods=["GET", "POST"], endpoint="staff_user_new")
@admin_required
def staff_user_new():
    form = NewStaffUserForm()
    if request.method == "GET":
        form.role.data = StaffRole.EMPLOYEE.value
    elif form.validate_on_submit():
        try:
            created = staff_users.create_user(get_ctx(), staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Account for {created['name']} created.")
            return redirect(url_for("staff.staff_users"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/staff_users/form.html", form=form, user=None, password_form=None), status


def _edit_page(user_id: int, form: StaffUserForm, password_form: PasswordForm, status: int = 200):
    user = staff_users.get_staff_user(get_ctx(), user_id, staff=g.staff)
    return render_template("staff/staff_users/form.html", form=form, user=user,
                           password_form=password_form), status


@bp.route("/staff-users/<int:user_id>/edit", methods=["GET", "POST"], endpoint="staff_user_edit")
@admin_required
def staff_user_edit(user_id: int):
    if request.method == "GET":
        user = staff_users.get_staff_user(get_ctx(), user_id, staff=g.staff)
        return _edit_page(user_id, StaffUserForm(data=user), PasswordForm(formdata=None))
    form = StaffUserForm()
    if form.validate_on_submit():
        try:
            staff_users.update_user(get_ctx(), user_id, staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Account saved.")
            return redirect(url_for("staff.staff_users"))
    return _edit_page(user_id, form, PasswordForm(formdata=None), 400)


@bp.post("/staff-users/<int:user_id>/password", endpoint="staff_user_password")
@admin_required
def staff_user_password(user_id: int):
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            staff_users.set_password(get_ctx(), user_id, form.password.data, staff=g.staff)
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Password changed; the account's open sessions were ended.")
            return redirect(url_for("staff.staff_user_edit", user_id=user_id))
    user = staff_users.get_staff_user(get_ctx(), user_id, staff=g.staff)
    return _edit_page(user_id, StaffUserForm(formdata=None, data=user), form, 400)


@bp.post("/staff-users/<int:user_id>/deactivate", endpoint="staff_user_deactivate")
@admin_required
def staff_user_deactivate(user_id: int):
    user = staff_users.deactivate_user(get_ctx(), user_id, staff=g.staff)
    flash(f"{user['name']} deactivated and logged out everywhere.")
    return redirect(url_for("staff.staff_users"))


@bp.post("/staff-users/<int:user_id>/reactivate", endpoint="staff_user_reactivate")
@admin_required
def staff_user_reactivate(user_id: int):
    user = staff_users.reactivate_user(get_ctx(), user_id, staff=g.staff)
    flash(f"{user['name']} may log in again.")
    return redirect(url_for("staff.staff_users"))
