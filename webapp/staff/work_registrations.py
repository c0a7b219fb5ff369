"""Staff pages for registered work: hours, expenses (with receipts) and mileage, and a job's own page.

Every logged-in staff member may use them; engine.services.registrations decides what each one sees (employees
their own, on their customers' jobs) and answers NotFound for anything else. Validation lives in the service.
"""

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from engine.errors import InvalidInput
from engine.models import ApprovalStatus, RegistrationKind
from engine.services import registrations
from engine.services.paging import Page
from engine.services.staff_scope import OFFICE_ROLES
from webapp.auth import login_required
from webapp.downloads import send_upload
from webapp.extensions import get_ctx
from webapp.input_guard import parse_day, parse_int
from webapp.pager import page_links, query_cursor
from webapp.staff import bp
from webapp.staff.forms import options, show_errors

KINDS = tuple(RegistrationKind)
KIND_LABELS = {"hours": "Hours", "expense": "Expense", "mileage": "Mileage"}
FILTERS = ("customer", "job", "employee", "kind", "status", "date_from", "date_to")


class RegistrationForm(FlaskForm):
    kind = HiddenField()
    job_id = SelectField("Job", choices=[], validate_choice=False)
    employee_id = SelectField("For", choices=[], validate_choice=False)
    work_date = StringField("Date")
    start_time = StringField("Start time")
    end_time = StringField("End time")
    minutes = StringField("Or the time worked", description="1:30 or 90 (minutes)")
    amount = StringField("Amount", description="12.50")
    receipt = FileField("Receipt (image or PDF)")
    distance_km = StringField("Distance (km)")
    from_place = StringField("From")
    to_place = StringField("To")
    description = TextAreaField("Description")


def _form(kind: str, formdata=True, data: dict | None = None) -> RegistrationForm:
    form = RegistrationForm() if formdata else RegistrationForm(formdata=None, data=data)
    choices = registrations.list_registration_choices(get_ctx(), staff=g.staff)
    form.job_id.choices = options([("", "— choose a job —")] + [
        (str(j["id"]), f"{j['customer_name']} — {j['name']}") for j in choices["jobs"]])
    form.employee_id.choices = options([(str(e["id"]), e["name"]) for e in choices["employees"]])
    form.kind.data = kind
    return form


def _values(form: RegistrationForm) -> dict:
    data = {name: value for name, value in form.data.items() if name not in ("csrf_token", "receipt", "kind")}
    data["job_id"] = parse_int(data["job_id"], "job_id")
    data["employee_id"] = parse_int(data["employee_id"], "employee_id") if g.staff.role in OFFICE_ROLES else None
    upload = request.files.get("receipt")
    data["receipt"] = (upload.read(), upload.filename) if upload and upload.filename else None
    return data


def _render_form(form: RegistrationForm, registration: dict | None, status: int):
    return render_template("staff/registrations/form.html", form=form, kind=form.kind.data, registration=registration,
                           kind_label=KIND_LABELS[form.kind.data], office=g.staff.role in OFFICE_ROLES), status


@bp.get("/registrations", endpoint="registrations")
@login_required
def registration_list():
    args = {name: request.args.get(name, "").strip() for name in FILTERS}
    choices = registrations.list_registration_choices(get_ctx(), staff=g.staff)
    error = None
    try:
        listed = registrations.list_registrations(
            get_ctx(), staff=g.staff, customer_id=parse_int(args["customer"], "customer"),
            job_id=parse_int(args["job"], "job"), employee_id=parse_int(args["employee"], "employee"),
            kind=args["kind"] or None, status=args["status"] or None,
            date_from=parse_day(args["date_from"], "date_from"), date_to=parse_day(args["date_to"], "date_to"),
            cursor=query_cursor())
    except InvalidInput as err:
        listed, error = {"rows": Page(), "totals": None}, str(err)
    customers = {j["customer_id"]: j["customer_name"] for j in choices["jobs"]}
    return render_template("staff/registrations/list.html", listed=listed, pages=page_links(listed["rows"]),
                           args=args, error=error,
                           jobs=choices["jobs"], employees=choices["employees"], customers=customers,
                           kinds=KIND_LABELS, statuses=list(ApprovalStatus),
                           office=g.staff.role in OFFICE_ROLES), 400 if error else 200


@bp.route("/registrations/new", methods=["GET", "POST"], endpoint="registration_new")
@login_required
def registration_new():
    kind = request.form.get("kind") or request.args.get("kind", "")
    if kind not in KINDS:
        return render_template("staff/registrations/choose.html", kinds=KIND_LABELS, job=request.args.get("job"))
    form = _form(kind)
    if request.method == "GET":
        form.job_id.data = request.args.get("job", "")
        form.employee_id.data = str(g.staff.id)
    elif form.validate_on_submit():
        try:
            created = registrations.create_registration(get_ctx(), staff=g.staff, kind=kind, **_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Registered on {created['job_name']} (draft): {created['label']}.")
            return redirect(url_for("staff.job_detail", job_id=created["job_id"]))
    return _render_form(form, None, 400 if request.method == "POST" else 200)


@bp.route("/registrations/<int:registration_id>/edit", methods=["GET", "POST"], endpoint="registration_edit")
@login_required
def registration_edit(registration_id: int):
    ctx = get_ctx()
    current = registrations.get_registration(ctx, staff=g.staff, registration_id=registration_id)
    if not current["editable"] and request.method == "GET":
        flash(f"{current['label']} is {current['status']}; it can no longer be edited.")
        return redirect(url_for("staff.job_detail", job_id=current["job_id"]))
    if request.method == "GET":
        data = {**current, "job_id": str(current["job_id"]), "employee_id": str(current["employee_id"]),
                "minutes": "" if current["start_time"] else current["duration"], "amount": current["amount"]}
        return _render_form(_form(current["kind"], formdata=False, data=data), current, 200)
    form = _form(current["kind"])
    if form.validate_on_submit():
        try:
            changed = registrations.update_registration(ctx, staff=g.staff, registration_id=registration_id,
                                                        kind=current["kind"], **_values(form))
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Saved: {changed['label']}.")
            return redirect(url_for("staff.job_detail", job_id=changed["job_id"]))
    return _render_form(form, current, 400)


@bp.post("/registrations/<int:registration_id>/delete", endpoint="registration_delete")
@login_required
def registration_delete(registration_id: int):
    deleted = registrations.delete_registration(get_ctx(), staff=g.staff, registration_id=registration_id)
    flash(f"Deleted: {deleted['label']}.")
    return redirect(url_for("staff.job_detail", job_id=deleted["job_id"]))


@bp.get("/registrations/<int:registration_id>/receipt", endpoint="registration_receipt")
@login_required
def registration_receipt(registration_id: int):
    path, name, content_type = registrations.receipt_file(get_ctx(), staff=g.staff, registration_id=registration_id)
    return send_upload(path, name, content_type)


@bp.get("/jobs/<int:job_id>", endpoint="job_detail")
@login_required
def job_detail(job_id: int):
    ctx = get_ctx()
    job = registrations.get_job(ctx, staff=g.staff, job_id=job_id)
    by_kind = {kind: registrations.list_registrations(ctx, staff=g.staff, job_id=job_id, kind=kind)
               for kind in KINDS}
    return render_template("staff/registrations/job.html", job=job, by_kind=by_kind, kinds=KIND_LABELS)
