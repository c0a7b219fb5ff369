"""Admins edit the e-mail templates: a checked edit replaces the shipped file until it is reset."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from engine.errors import InvalidInput
from engine.services import email_templates
from engine.services.staff_scope import ensure_admin
from webapp.auth import login_required
from webapp.extensions import get_ctx
from webapp.staff import bp


class TemplateForm(FlaskForm):
    source = TextAreaField("Template source (Jinja2)")


@bp.get("/settings/email-templates", endpoint="email_templates")
@login_required
def template_list():
    ensure_admin(g.staff)
    return render_template("staff/email_templates/list.html", templates=email_templates.list_templates(get_ctx()))


@bp.route("/settings/email-templates/<name>", methods=["GET", "POST"], endpoint="email_template_edit")
@login_required
def template_edit(name: str):
    ensure_admin(g.staff)
    ctx = get_ctx()
    source, edited = email_templates.get_template_source(ctx, name)
    form = TemplateForm(data={"source": source} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            email_templates.save_template(ctx, name, form.source.data, g.staff.name)
        except InvalidInput as err:
            form.source.errors = [str(err)]
            status = 400
        else:
            flash(f"Template {name} saved; the next mails use it.")
            return redirect(url_for("staff.email_template_edit", name=name))
    elif request.method == "POST":
        status = 400
    try:
        preview, preview_error = email_templates.preview_template(ctx, name), None
    except InvalidInput as err:  # a stored edit that no longer renders: show why, and let the admin fix it
        preview, preview_error = None, str(err)
    return render_template("staff/email_templates/edit.html", name=name, form=form, edited=edited,
                           preview=preview, preview_error=preview_error), status


@bp.post("/settings/email-templates/<name>/reset", endpoint="email_template_reset")
@login_required
def template_reset(name: str):
    ensure_admin(g.staff)
    email_templates.reset_template(get_ctx(), name)
    flash(f"Template {name} is the shipped version again.")
    return redirect(url_for("staff.email_template_edit", name=name))
