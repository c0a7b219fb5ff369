"""Staff pages for customers, their contacts and jobs (admins and managers; employees get 403).

Forms only parse and carry CSRF; validation lives in engine.services, whose InvalidInput
"field: problem; ..." is shown next to each field, with the form back and nothing saved.
"""

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField

from engine.errors import InvalidInput
from engine.services import customer_contact, customers, jobs
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.input_guard import posted_ids
from webapp.pager import page_links, query_cursor
from webapp.staff import bp
from webapp.staff.forms import form_values, options, show_errors


class CustomerForm(FlaskForm):
    name = StringField("Name")
    billing_address = TextAreaField("Billing address")
    website = StringField("Website", description="https://…")
    comment = TextAreaField("Comment (internal)")
    show_hours_overview = BooleanField("Show hours overview in the portal")


class NewCustomerForm(CustomerForm):
    contact_name = StringField("Contact name")
    contact_email = EmailField("Contact e-mail")
    contact_mobile = StringField("Contact mobile")


class ContactForm(FlaskForm):
    name = StringField("Name")
    email = EmailField("E-mail")
    mobile = StringField("Mobile")


class JobForm(FlaskForm):
    name = StringField("Job name")
    manager_id = SelectField("Job manager", choices=[])
    period_start = StringField("Period start")
    period_end = StringField("Period end")
    requires_customer_approval = BooleanField("Requires customer approval")


@bp.get("/customers", endpoint="customers")
@office_required
def customer_list():
    search = request.args.get("q", "").strip()
    archived = request.args.get("archived") == "1"
    rows = customers.list_customers(get_ctx(), include_archived=archived, search=search, staff=g.staff,
                                    cursor=query_cursor())
    return render_template("staff/customers/list.html", customers=rows, pages=page_links(rows), search=search,
                           archived=archived)


@bp.route("/customers/new", methods=["GET", "POST"], endpoint="customer_new")
@office_required
def customer_new():
    form = NewCustomerForm()
    if form.validate_on_submit():
        try:
            created = customers.create_customer(get_ctx(), staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Customer {created['name']} created.")
            return redirect(url_for("staff.customer_detail", customer_id=created["id"]))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/customers/form.html", form=form, customer=None), status


def _edit_page(customer_id: int, form: CustomerForm, contact_form: ContactForm, status: int = 200):
    customer = customers.get_customer(get_ctx(), customer_id, staff=g.staff)
    return render_template("staff/customers/form.html", form=form, customer=customer,
                           contact_form=contact_form), status


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"], endpoint="customer_edit")
@office_required
def customer_edit(customer_id: int):
    ctx = get_ctx()
    if request.method == "GET":
        customer = customers.get_customer(ctx, customer_id, staff=g.staff)
        form = CustomerForm(data=customer)
        return _edit_page(customer_id, form, ContactForm(formdata=None))
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            customers.update_customer(ctx, customer_id, staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Customer saved.")
            return redirect(url_for("staff.customer_detail", customer_id=customer_id))
    return _edit_page(customer_id, form, ContactForm(formdata=None), 400)


@bp.post("/customers/<int:customer_id>/contacts", endpoint="contact_add")
@office_required
def contact_add(customer_id: int):
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contact = customers.add_contact(get_ctx(), customer_id, staff=g.staff, **form_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Contact {contact['name']} added.")
            return redirect(url_for("staff.customer_edit", customer_id=customer_id))
    customer = customers.get_customer(get_ctx(), customer_id, staff=g.staff)
    return _edit_page(customer_id, CustomerForm(formdata=None, data=customer), form, 400)


@bp.post("/customers/<int:customer_id>/contacts/<int:contact_id>/remove", endpoint="contact_remove")
@office_required
def contact_remove(customer_id: int, contact_id: int):
    removed = customers.remove_contact(get_ctx(), contact_id, staff=g.staff, customer_id=customer_id)
    flash(f"Contact {removed['name']} removed.")
    return redirect(url_for("staff.customer_edit", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/approvers", endpoint="contact_approvers")
@office_required
def contact_approvers(customer_id: int):
    """The "approver" ticks of the customer's contacts (none ticked: every contact with portal access approves)."""
    try:
        names = customer_contact.set_approvers(get_ctx(), customer_id, posted_ids("approver_id"), staff=g.staff)
    except InvalidInput as err:
        flash(f"Approvers not saved: {err}.")
    else:
        flash(f"Approvers saved: {', '.join(names) or 'nobody (no contact has an e-mail address)'}.")
    return redirect(url_for("staff.customer_edit", customer_id=customer_id))


def back_to_customer(customer_id: int):
    """Row actions return to the list (keeping its filters) or to the customer's page."""
    if request.form.get("back") == "detail":
        return redirect(url_for("staff.customer_detail", customer_id=customer_id))
    args = {k: v for k, v in (("q", request.form.get("q", "")), ("archived", request.form.get("archived", ""))) if v}
    return redirect(url_for("staff.customers", **args))


@bp.post("/customers/<int:customer_id>/archive", endpoint="customer_archive")
@office_required
def customer_archive(customer_id: int):
    customer = customers.archive_customer(get_ctx(), customer_id, staff=g.staff)
    flash(f"{customer['name']} archived; portal access revoked. Restore it from the archived list.")
    return back_to_customer(customer_id)


@bp.post("/customers/<int:customer_id>/restore", endpoint="customer_restore")
@office_required
def customer_restore(customer_id: int):
    customer = customers.restore_customer(get_ctx(), customer_id, staff=g.staff)
    flash(f"{customer['name']} restored.")
    return back_to_customer(customer_id)


@bp.post("/customers/<int:customer_id>/portal-access", endpoint="customer_portal_access")
@office_required
def customer_portal_access(customer_id: int):
    granted = request.form.get("granted") == "1"
    try:
        customer = customers.set_portal_access(get_ctx(), customer_id, granted, staff=g.staff)
    except InvalidInput as err:
        flash(f"Portal access not granted: {str(err).removeprefix('portal_access: ')}.")
    else:
        flash(f"Portal access {'granted to' if granted else 'revoked for'} {customer['name']}.")
    return back_to_customer(customer_id)


@bp.get("/customers/<int:customer_id>", endpoint="customer_detail")
@office_required
def customer_detail(customer_id: int):
    ctx = get_ctx()
    customer = customers.get_customer(ctx, customer_id, staff=g.staff)
    return render_template("staff/customers/detail.html", customer=customer,
                           jobs=jobs.list_jobs(ctx, customer_id, staff=g.staff))


def _job_form(ctx) -> JobForm:
    form = JobForm()
    form.manager_id.choices = options([("", "— nobody yet —")] + [
        (str(m["id"]), m["name"]) for m in jobs.list_job_managers(ctx, staff=g.staff)])
    return form


def _job_data(form: JobForm) -> dict:
    data = form_values(form)
    data["manager_id"] = int(data["manager_id"]) if data["manager_id"] else None
    return data


@bp.route("/customers/<int:customer_id>/jobs/new", methods=["GET", "POST"], endpoint="job_new")
@office_required
def job_new(customer_id: int):
    ctx = get_ctx()
    customer = customers.get_customer(ctx, customer_id, staff=g.staff)
    form = _job_form(ctx)
    if request.method == "GET" and g.staff.role == "manager":
        form.manager_id.data = str(g.staff.id)
    if form.validate_on_submit():
        try:
            job = jobs.create_job(ctx, customer_id, staff=g.staff, **_job_data(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Job {job['name']} created.")
            return redirect(url_for("staff.customer_detail", customer_id=customer_id))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/jobs/form.html", form=form, customer=customer, job=None), status


@bp.route("/jobs/<int:job_id>/edit", methods=["GET", "POST"], endpoint="job_edit")
@office_required
def job_edit(job_id: int):
    ctx = get_ctx()
    job = jobs.get_job_for_edit(ctx, job_id, staff=g.staff)
    form = _job_form(ctx)
    if request.method == "GET":
        form.process(data={**job, "manager_id": str(job["manager_id"] or "")})
    if form.validate_on_submit():
        try:
            jobs.update_job(ctx, job_id, staff=g.staff, **_job_data(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash("Job saved.")
            return redirect(url_for("staff.job_detail", job_id=job_id))
    status = 400 if request.method == "POST" else 200
    customer = {"id": job["customer_id"], "name": job["customer_name"]}
    return render_template("staff/jobs/form.html", form=form, customer=customer, job=job), status
