"""Portal pages for a logged-in contact: approvals (one click, with a reason or the task's form, and bulk), the
decision history, project views with per-registration verdicts.

Every id in a URL is checked by the engine service for the current customer (NotFound → 404). Views are thin:
parse input, call one engine service, render or redirect. Files, visits and documents: webapp.portal.files.
"""

from flask import flash, g, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.services import portal_approvals, portal_decisions, portal_history, portal_views
from webapp.extensions import get_ctx
from webapp.input_guard import posted_ids, query_day, query_int
from webapp.pager import page_links, query_cursor
from webapp.portal import bp
from webapp.portal.auth import portal_login_required
from webapp.staff.forms import field_errors

RESULTS = "portal_results"  # flash category of per-item results: the page shows them as a list


def flash_results(results: list[dict], label: str) -> None:
    """One flashed line per item, named by what it is: "Approved: 3 Nov, 8:00 h, skylights" when done, else
    "<item>: <why not>"; the next page shows them as the decision's results."""
    for result in results:
        name = result.get("title") or f"{label} #{result[label.lower() + '_id']}"
        if result["ok"]:
            flash(f"{result['message'].capitalize()}: {name}", f"{RESULTS}-ok")
        else:
            flash(f"{name}: {result['message']}", f"{RESULTS}-error")


def render_approvals(status: int = 200, failed: dict | None = None, bulk_error: str | None = None):
    tasks = portal_approvals.summarize(portal_views.list_review_tasks(get_ctx(), g.portal_actor,
                                                                      g.portal_customer.id, query_cursor()))
    if failed:
        form = next((task["form"] for task in tasks if task["id"] == failed["task_id"]), [])
        failed["errors"] = field_errors(form, failed["message"])
    return render_template("portal/approvals.html", tasks=tasks, pages=page_links(tasks), failed=failed or {},
                           bulk_error=bulk_error, form=request.form if bulk_error else {}), status


@bp.get("/approvals", endpoint="approvals")
@portal_login_required
def approvals():
    return render_approvals()


@bp.post("/tasks/<int:task_id>", endpoint="decide_task")
@portal_login_required
def decide_task(task_id: int):
    """One approval decided (one click, or with its reason or form); decided by someone else first: the
    portal's conflict page says who and when (AlreadyDecided → 409)."""
    try:
        result = portal_approvals.decide_review(get_ctx(), g.portal_actor, g.portal_customer.id, task_id,
                                                request.form)
    except InvalidInput as err:
        return render_approvals(400, failed={"task_id": task_id, "values": request.form.to_dict(),
                                             "message": str(err)})
    flash(result["message"], f"{RESULTS}-ok")
    return redirect(url_for("portal.approvals"))


@bp.get("/history", endpoint="history")
@portal_login_required
def history():
    items = portal_history.decision_history(get_ctx(), g.portal_actor, g.portal_customer.id, query_cursor())
    return render_template("portal/history.html", items=items, pages=page_links(items))


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
