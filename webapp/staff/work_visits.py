"""Staff pages for visits: plan or record a visit, check in and out, upload and view photos.

Every logged-in staff member may use them; engine.services.visits scopes them (employees: their own visits at
their customers) and answers NotFound for anything else. Times on the forms are the company's time zone's.
"""

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from engine.errors import InvalidInput
from engine.services import visit_hours, visits
from engine.services.paging import Page
from engine.services.staff_scope import OFFICE_ROLES
from webapp.auth import login_required
from webapp.downloads import send_upload
from webapp.extensions import get_ctx
from webapp.input_guard import parse_day, parse_int
from webapp.pager import page_links, query_cursor
from webapp.staff import bp
from webapp.staff.forms import options, show_errors

TIME_HINT = "e.g. 2026-11-24T08:00"


class VisitForm(FlaskForm):
    customer_id = SelectField("Customer", choices=[], validate_choice=False)
    job_id = SelectField("Job (optional)", choices=[], validate_choice=False)
    employee_id = SelectField("Employee", choices=[], validate_choice=False)
    planned_start = StringField("Planned start", description=TIME_HINT)
    planned_end = StringField("Planned end", description=TIME_HINT)
    checked_in_at = StringField("Checked in at", description=TIME_HINT)
    checked_out_at = StringField("Checked out at", description=TIME_HINT)
    note = TextAreaField("Note")


def _visit_form() -> VisitForm:
    form = VisitForm()
    choices = visits.list_visit_choices(get_ctx(), staff=g.staff)
    form.customer_id.choices = options([("", "— choose a customer —")] + [(str(c["id"]), c["name"])
                                                                  for c in choices["customers"]])
    form.job_id.choices = options([("", "— no job —")] + [(str(j["id"]), f"{j['customer_name']} — {j['name']}")
                                                  for j in choices["jobs"]])
    form.employee_id.choices = options([(str(e["id"]), e["name"]) for e in choices["employees"]])
    return form


@bp.get("/visits", endpoint="visits")
@login_required
def visit_list():
    args = {name: request.args.get(name, "").strip() for name in ("customer", "employee", "date_from", "date_to")}
    choices = visits.list_visit_choices(get_ctx(), staff=g.staff)
    error = None
    try:
        rows = visits.list_visits(get_ctx(), staff=g.staff, customer_id=parse_int(args["customer"], "customer"),
                                  employee_id=parse_int(args["employee"], "employee"),
                                  date_from=parse_day(args["date_from"], "date_from"),
                                  date_to=parse_day(args["date_to"], "date_to"), cursor=query_cursor())
    except InvalidInput as err:
        rows, error = Page(), str(err)
    return render_template("staff/visits/list.html", rows=rows, pages=page_links(rows), args=args, error=error,
                           choices=choices, office=g.staff.role in OFFICE_ROLES), 400 if error else 200


@bp.route("/visits/new", methods=["GET", "POST"], endpoint="visit_new")
@login_required
def visit_new():
    form = _visit_form()
    if request.method == "GET":
        form.customer_id.data = request.args.get("customer", "")
        form.employee_id.data = str(g.staff.id)
    elif form.validate_on_submit():
        data = {name: value for name, value in form.data.items() if name != "csrf_token"}
        for name in ("customer_id", "job_id", "employee_id"):
            data[name] = parse_int(data[name], name)
        if g.staff.role not in OFFICE_ROLES:
            data["employee_id"] = g.staff.id
        try:
            created = visits.create_visit(get_ctx(), staff=g.staff, **data)
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"Visit at {created['customer_name']} saved.")
            return redirect(url_for("staff.visit_detail", visit_id=created["id"]))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/visits/form.html", form=form, office=g.staff.role in OFFICE_ROLES), status


def _detail(visit_id: int, errors: list[str] | None = None, status: int = 200):
    visit = visits.get_visit(get_ctx(), staff=g.staff, visit_id=visit_id)
    return render_template("staff/visits/detail.html", visit=visit, errors=errors or []), status


@bp.get("/visits/<int:visit_id>", endpoint="visit_detail")
@login_required
def visit_detail(visit_id: int):
    return _detail(visit_id)


def _act(visit_id: int, action, message):
    """Run a visit action (a service call); on bad input show the visit with the reason (400), else flash
    `message(result)` and go back to the visit."""
    try:
        result = action(get_ctx(), staff=g.staff, visit_id=visit_id)
    except InvalidInput as err:
        return _detail(visit_id, [str(err).partition(": ")[2]], 400)
    flash(message(result))
    return redirect(url_for("staff.visit_detail", visit_id=visit_id))


def _checked_out(done: dict) -> str:
    if done["hours"]:
        return f"Checked out; registered as hours: {done['hours']['label']} (draft)."
    if done["hours_problem"]:
        return f"Checked out; not registered as hours: {done['hours_problem']}."
    return "Checked out."


@bp.post("/visits/<int:visit_id>/check-in", endpoint="visit_check_in")
@login_required
def visit_check_in(visit_id: int):
    return _act(visit_id, visits.check_in, lambda _: "Checked in.")


@bp.post("/visits/<int:visit_id>/check-out", endpoint="visit_check_out")
@login_required
def visit_check_out(visit_id: int):
    return _act(visit_id, visit_hours.check_out_visit, _checked_out)


@bp.post("/visits/<int:visit_id>/hours", endpoint="visit_hours")
@login_required
def visit_to_hours(visit_id: int):
    return _act(visit_id, visit_hours.turn_visit_into_hours,
                lambda created: f"Registered as hours: {created['label']} (draft).")


@bp.post("/visits/<int:visit_id>/photos", endpoint="visit_photos")
@login_required
def visit_photos(visit_id: int):
    files = [(upload.read(), upload.filename) for upload in request.files.getlist("photos") if upload.filename]
    try:
        added = visits.add_photos(get_ctx(), staff=g.staff, visit_id=visit_id, files=files)
    except InvalidInput as err:
        return _detail(visit_id, [part.partition(": ")[2] for part in str(err).split("; ")], 400)
    flash(f"{len(added)} photo{'s' if len(added) != 1 else ''} added.")
    return redirect(url_for("staff.visit_detail", visit_id=visit_id))


@bp.post("/visits/photos/<int:photo_id>/delete", endpoint="visit_photo_delete")
@login_required
def visit_photo_delete(photo_id: int):
    deleted = visits.delete_photo(get_ctx(), staff=g.staff, photo_id=photo_id)
    flash(f"Photo {deleted['original_name']} deleted.")
    return redirect(url_for("staff.visit_detail", visit_id=deleted["visit_id"]))


@bp.get("/visits/photos/<int:photo_id>", endpoint="visit_photo")
@login_required
def visit_photo(photo_id: int):
    path, name, content_type = visits.photo_file(get_ctx(), staff=g.staff, photo_id=photo_id)
    return send_upload(path, name, content_type, as_attachment=request.args.get("download") == "1")
