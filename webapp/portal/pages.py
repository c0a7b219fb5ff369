"""Portal pages for a logged-in contact: approvals (single and bulk), project views with per-registration verdicts.

Every id in a URL is checked by the engine service for the current customer (NotFound → 404). Views are thin:
parse input, call one engine service, render or redirect. Files, visits and documents: webapp.portal.files.
"""

from flask import flash, g, redirect, render_template, request, url_for

from engine.errors import InvalidInput, TaskAlreadyCompleted
from engine.services import instances, portal_decisions, portal_views
from webapp.extensions import get_ctx
from webapp.input_guard import posted_ids, query_day, query_int
from webapp.pager import page_links, query_cursor
from webapp.portal import bp
from webapp.portal.auth import portal_login_required
from webapp.staff.forms import field_errors, task_form_data

RESULTS = "portal_results"  # flash category of per-item results: the page shows them as a list


def flash_results(results: list[dict], label: str) -> None:
    """One flashed line per item ("ok" or not): the next page shows them as the decision's results."""
    for result in results:
        status = "ok" if result["ok"] else "error"
        name = result.get("title") or f"{label} #{result[label.lower() + '_id']}"
        flash(f"{name}: {result['message']}", f"{RESULTS}-{status}")


def render_approvals(status: int = 200, failed: dict | None = None, bulk_error: str | None = None):
    tasks = portal_views.list_review_tasks(get_ctx(), g.portal_actor, g.portal_customer.id, query_cursor())
    return render_template("portal/approvals.html", tasks=tasks, pages=page_links(tasks), failed=failed or {},
                           bulk_error=bulk_error, form=request.form if bulk_error else {}), status


@bp.get("/approvals", endpoint="approvals")
@portal_login_required
def approvals():
    return render_approvals()


@bp.post("/tasks/<int:task_id>", endpoint="decide_task")
@portal_login_required
def decide_task(task_id: int):
    ctx, customer_id = get_ctx(), g.portal_customer.id
    task = portal_views.get_review_task(ctx, g.portal_actor, customer_id, task_id)  # NotFound: not this customer's
    data = task_form_data(instances.form_for_pages(task["form"]), request.form)  # only the form's own fields
    try:
        instances.complete_task(ctx, task_id, data, g.portal_actor, strict=True)
    except InvalidInput as err:
        failed = {"task_id": task_id, "values": data, "errors": field_errors(task["form"], str(err)),
                  "message": str(err)}
        return render_approvals(400, failed=failed)
    except TaskAlreadyCompleted as err:
        flash(f"{task['title']}: already decided ({err}).", f"{RESULTS}-error")
        return redirect(url_for("portal.approvals"))
    flash(f"{task['title']}: done.", f"{RESULTS}-ok")
    return redirect(url_for("portal.approvals"))


@bp.post("/approvals/bulk", endpoint="decide_bulk")
@portal_login_required
def decide_bulk():
    ids = posted_ids("task_id")
    if not ids:
        return render_approvals(400, bulk_error="Select at least one task.")
    try:
        results = portal_decisions.decide_tasks(get_ctx(), g.portal_actor, ids, request.form.get("decision", ""),
                                                request.form.get("comment", ""))
    except InvalidInput as err:
        return render_approvals(400, bulk_error=f"Nothing was decided: {err}.")
    flash_results(results, "Task")
    return redirect(url_for("portal.approvals"))


def _job_args() -> dict:
    return {"kind": request.args.get("kind") or "hours", "date_from": query_day("from"), "date_to": query_day("to"),
            "employee_id": query_int("employee"), "status": request.args.get("status") or None}


@bp.get("/jobs/<int:job_id>", endpoint="job")
@portal_login_required
def job(job_id: int):
    args = _job_args()
    view = portal_views.project_view(get_ctx(), g.portal_actor, g.portal_customer.id, job_id, **args)
    return render_template("portal/job.html", view=view, args=args)


@bp.post("/jobs/<int:job_id>/decide", endpoint="decide_registrations")
@portal_login_required
def decide_registrations(job_id: int):
    kind = request.form.get("kind") or "hours"
    back = url_for("portal.job", job_id=job_id, kind=kind)
    changes = posted_ids("change_id")  # rows with a verdict the contact chose to change
    ids = posted_ids("registration_id") + changes
    if not ids:
        flash("Select at least one registration.", f"{RESULTS}-error")
        return redirect(back)
    try:
        results = portal_decisions.decide_registrations(get_ctx(), g.portal_actor, g.portal_customer.id, ids,
                                                        request.form.get("verdict", ""),
                                                        request.form.get("comment", ""), job_id=job_id,
                                                        change_ids=changes)
    except InvalidInput as err:
        flash(f"Nothing was decided: {err}.", f"{RESULTS}-error")
        return redirect(back)
    flash_results(results, "Registration")
    return redirect(back)
