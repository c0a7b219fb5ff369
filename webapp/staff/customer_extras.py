"""Staff pages for what hangs off a customer: journal, resources, associated employees, a message to a contact,
a contact's vCard as QR code, the hours-overview toggle and the account manager (admins and managers).

Views only parse and call one engine service; InvalidInput "field: problem" is shown next to each field with
status 400 and nothing saved. Ids outside the staff member's scope are 404 (engine NotFound).
"""

import segno
from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import FileField, SelectField, StringField, TextAreaField

from engine.errors import InvalidInput, NotFound
from engine.services import customer_contact, customer_extras, customers
from engine.services.jobs import list_job_managers
from engine.services.staff_scope import ensure_admin
from webapp.auth import office_required
from webapp.downloads import send_upload
from webapp.extensions import get_ctx
from webapp.input_guard import parse_int
from webapp.staff import bp
from webapp.staff.customers import back_to_customer
from webapp.staff.forms import form_values, options, show_errors


class JournalForm(FlaskForm):
    text = TextAreaField("New note (internal, never shown to the customer)")


class LinkForm(FlaskForm):
    title = StringField("Title")
    url = StringField("Web address", description="https://…")


class FileForm(FlaskForm):
    title = StringField("Title", description="defaults to the file name")
    file = FileField("File")


class EmployeeForm(FlaskForm):
    employee_id = SelectField("Employee", choices=[], validate_choice=False)


class MessageForm(FlaskForm):
    contact_id = SelectField("To", choices=[], validate_choice=False)
    subject = StringField("Subject")
    body = TextAreaField("Message")


class AccountManagerForm(FlaskForm):
    manager_id = SelectField("Account manager", choices=[], validate_choice=False)


def _customer(customer_id: int) -> dict:
    return customers.get_customer(get_ctx(), customer_id, staff=g.staff)


# --- journal -------------------------------------------------------------------------------------------------

def _journal_page(customer_id: int, form: JournalForm, status: int = 200):
    entries = customer_extras.list_journal(get_ctx(), customer_id, staff=g.staff)
    return render_template("staff/customers/journal.html", customer=_customer(customer_id), entries=entries,
                           form=form), status


@bp.route("/customers/<int:customer_id>/journal", methods=["GET", "POST"], endpoint="customer_journal")
@office_required
def customer_journal(customer_id: int):
    form = JournalForm()
    if request.method == "GET":
        return _journal_page(customer_id, form)
    if form.validate_on_submit():
        try:
            customer_extras.add_journal_entry(get_ctx(), customer_id, staff=g.staff, text=form.text.data)
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Note added to the journal.")
            return redirect(url_for("staff.customer_journal", customer_id=customer_id))
    return _journal_page(customer_id, form, 400)


@bp.post("/customers/<int:customer_id>/journal/<int:entry_id>/delete", endpoint="journal_delete")
@office_required
def journal_delete(customer_id: int, entry_id: int):
    customer_extras.delete_journal_entry(get_ctx(), entry_id, staff=g.staff, customer_id=customer_id)
    flash("Journal entry deleted.")
    return redirect(url_for("staff.customer_journal", customer_id=customer_id))


# --- resources -----------------------------------------------------------------------------------------------

def _resources_page(customer_id: int, link_form: LinkForm, file_form: FileForm, status: int = 200):
    rows = customer_extras.list_resources(get_ctx(), customer_id, staff=g.staff)
    return render_template("staff/customers/resources.html", customer=_customer(customer_id), resources=rows,
                           link_form=link_form, file_form=file_form), status


@bp.get("/customers/<int:customer_id>/resources", endpoint="customer_resources")
@office_required
def customer_resources(customer_id: int):
    return _resources_page(customer_id, LinkForm(formdata=None), FileForm(formdata=None))


@bp.post("/customers/<int:customer_id>/resources/link", endpoint="resource_link_add")
@office_required
def resource_link_add(customer_id: int):
    form = LinkForm()
    if form.validate_on_submit():
        try:
            customer_extras.add_resource_link(get_ctx(), customer_id, staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Link added.")
            return redirect(url_for("staff.customer_resources", customer_id=customer_id))
    return _resources_page(customer_id, form, FileForm(formdata=None), 400)


@bp.post("/customers/<int:customer_id>/resources/file", endpoint="resource_file_add")
@office_required
def resource_file_add(customer_id: int):
    form = FileForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            customer_extras.add_resource_file(
                get_ctx(), customer_id, staff=g.staff, title=form.title.data,
                data=upload.read() if upload else b"", filename=upload.filename if upload else "")
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("File uploaded.")
            return redirect(url_for("staff.customer_resources", customer_id=customer_id))
    return _resources_page(customer_id, LinkForm(formdata=None), form, 400)


@bp.get("/customers/<int:customer_id>/resources/<int:resource_id>/download", endpoint="resource_download")
@office_required
def resource_download(customer_id: int, resource_id: int):
    path, name, content_type = customer_extras.resource_file(get_ctx(), resource_id, staff=g.staff,
                                                             customer_id=customer_id)
    return send_upload(path, name, content_type)


@bp.post("/customers/<int:customer_id>/resources/<int:resource_id>/delete", endpoint="resource_delete")
@office_required
def resource_delete(customer_id: int, resource_id: int):
    removed = customer_extras.delete_resource(get_ctx(), resource_id, staff=g.staff, customer_id=customer_id)
    flash(f"{removed['title']} deleted.")
    return redirect(url_for("staff.customer_resources", customer_id=customer_id))


# --- associated employees ------------------------------------------------------------------------------------

def _employees_page(customer_id: int, form: EmployeeForm, status: int = 200):
    ctx = get_ctx()
    linked = customer_extras.list_customer_employees(ctx, customer_id, staff=g.staff)
    taken = {e["id"] for e in linked}
    form.employee_id.choices = options([("", "— choose —")] + [
        (str(e["id"]), e["name"]) for e in customer_extras.list_assignable_employees(ctx, staff=g.staff)
        if e["id"] not in taken])
    return render_template("staff/customers/employees.html", customer=_customer(customer_id), employees=linked,
                           form=form), status


@bp.route("/customers/<int:customer_id>/employees", methods=["GET", "POST"], endpoint="customer_employees")
@office_required
def customer_employees(customer_id: int):
    form = EmployeeForm()
    if request.method == "GET":
        return _employees_page(customer_id, form)
    if form.validate_on_submit():
        employee_id = parse_int(form.employee_id.data, "employee_id")
        try:
            if employee_id is None:
                raise InvalidInput("employee_id: choose an employee")
            added = customer_extras.add_customer_employee(get_ctx(), customer_id, employee_id, staff=g.staff)
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"{added['name']} now works for this customer.")
            return redirect(url_for("staff.customer_employees", customer_id=customer_id))
    return _employees_page(customer_id, form, 400)


@bp.post("/customers/<int:customer_id>/employees/<int:employee_id>/remove", endpoint="customer_employee_remove")
@office_required
def customer_employee_remove(customer_id: int, employee_id: int):
    customer_extras.remove_customer_employee(get_ctx(), customer_id, employee_id, staff=g.staff)
    flash("Employee no longer associated with this customer.")
    return redirect(url_for("staff.customer_employees", customer_id=customer_id))


# --- message, vCard QR, settings ------------------------------------------------------------------------------

@bp.route("/customers/<int:customer_id>/message", methods=["GET", "POST"], endpoint="customer_message")
@office_required
def customer_message(customer_id: int):
    customer = _customer(customer_id)
    form = MessageForm()
    form.contact_id.choices = options([(str(c["id"]), f"{c['name']} <{c['email']}>") for c in customer["contacts"]
                               if c["email"]])
    if request.method == "POST" and form.validate_on_submit():
        try:
            values = {**form_values(form), "contact_id": parse_int(form.contact_id.data, "contact_id")}
            sent = customer_extras.send_customer_message(get_ctx(), customer_id, staff=g.staff, **values)
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Message to {sent['contact_name']} ({sent['recipient']}) queued for sending.")
            return redirect(url_for("staff.customer_detail", customer_id=customer_id))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/customers/message.html", customer=customer, form=form), status


def _contact_of(customer: dict, contact_id: int) -> dict:
    for contact in customer["contacts"]:
        if contact["id"] == contact_id:
            return contact
    raise NotFound(f"no contact {contact_id} of customer {customer['id']}")


@bp.get("/customers/<int:customer_id>/qr", endpoint="customer_qr")
@office_required
def customer_qr(customer_id: int):
    """Every contact's vCard as a QR code (scan with a phone to add the contact), and as a .vcf download."""
    customer = _customer(customer_id)
    codes = []
    for contact in customer["contacts"]:
        vcard = customer_extras.contact_vcard(get_ctx(), contact["id"], staff=g.staff)
        svg = segno.make(vcard, error="m").svg_inline(scale=4, title=f"vCard of {contact['name']}")
        codes.append({"contact": contact, "svg": Markup(svg)})
    return render_template("staff/customers/qr.html", customer=customer, codes=codes)


@bp.get("/customers/<int:customer_id>/contacts/<int:contact_id>/vcard.vcf", endpoint="contact_vcf")
@office_required
def contact_vcf(customer_id: int, contact_id: int):
    contact = _contact_of(_customer(customer_id), contact_id)
    vcard = customer_extras.contact_vcard(get_ctx(), contact_id, staff=g.staff)
    name = "".join(ch for ch in contact["name"] if ch.isalnum() or ch in " -_").strip() or "contact"
    return Response(vcard, mimetype="text/vcard", headers={
        "Content-Disposition": f'attachment; filename="{name}.vcf"', "X-Content-Type-Options": "nosniff"})


@bp.post("/customers/<int:customer_id>/hours-overview", endpoint="customer_hours_overview")
@office_required
def customer_hours_overview(customer_id: int):
    shown = customer_extras.set_show_hours_overview(get_ctx(), customer_id, request.form.get("shown") == "1",
                                                    staff=g.staff)
    flash(f"Hours overview {'shown' if shown else 'hidden'} in the portal.")
    return back_to_customer(customer_id)


@bp.route("/customers/<int:customer_id>/account-manager", methods=["GET", "POST"],
          endpoint="customer_account_manager")
@office_required
def customer_account_manager(customer_id: int):
    ensure_admin(g.staff)
    ctx = get_ctx()
    customer = _customer(customer_id)
    form = AccountManagerForm()
    form.manager_id.choices = options([("", "— nobody —")] + [
        (str(m["id"]), m["name"]) for m in list_job_managers(ctx, staff=g.staff)])
    current = customer_contact.account_manager_of(ctx, customer_id, staff=g.staff)
    if request.method == "GET":
        form.manager_id.data = str(current["id"] or "")
    elif form.validate_on_submit():
        try:
            raw = form.manager_id.data
            manager_id = int(raw) if raw else None
            customer_extras.set_account_manager(ctx, customer_id, manager_id, staff=g.staff)
        except ValueError:
            show_errors(form, InvalidInput("manager_id: choose a manager"))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Account manager saved.")
            return redirect(url_for("staff.customer_detail", customer_id=customer_id))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/customers/account_manager.html", customer=customer, form=form,
                           current=current), status
