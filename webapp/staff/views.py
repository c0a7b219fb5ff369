"""Staff pages: each view parses input, calls one engine service and renders (or redirects)."""

from flask import flash, g, redirect, render_template, request, url_for

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.services import inbox, instances, staff_auth, task_context
from engine.services.staff_scope import OFFICE_ROLES
from webapp.auth import COOKIE, client_ip, forget_session, login_required, remember_session, safe_next
from webapp.extensions import get_ctx
from webapp.input_guard import query_int
from webapp.pager import page_links, query_cursor
from webapp.staff import bp
from webapp.staff.forms import LoginForm, field_errors, task_form_data


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    target = safe_next(request.args.get("next")) or url_for("staff.inbox")
    if g.staff is not None and request.method == "GET":
        return redirect(target)
    status = 200
    if form.validate_on_submit():
        try:
            token = staff_auth.authenticate(get_ctx(), form.email.data, form.password.data, client_ip())
        except staff_auth.Throttled as err:
            form.form_errors.append(str(err))
            status = 429
        except NotAllowed as err:
            form.form_errors.append(str(err))
            status = 401
        else:
            staff_auth.end_session(get_ctx(), request.cookies.get(COOKIE))  # no session fixation
            response = redirect(target)
            remember_session(response, token)
            g.drop_cookie = False
            return response
    elif request.method == "POST":
        status = 400
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout():
    staff_auth.end_session(get_ctx(), request.cookies.get(COOKIE))
    response = redirect(url_for("staff.login"))
    forget_session(response)
    g.drop_cookie = False
    flash("You are logged out.")
    return response


@bp.get("/")
@login_required
def home():
    return redirect(url_for("staff.inbox"))


@bp.get("/inbox", endpoint="inbox")
@login_required
def inbox_view():
    ctx = get_ctx()
    process, due = request.args.get("process", ""), request.args.get("due", "")
    customer_id = query_int("customer")
    tasks = inbox.list_inbox(ctx, g.actor, process, due, query_cursor(), customer_id=customer_id)
    return render_template("staff/inbox.html", tasks=tasks, pages=page_links(tasks), process=process, due=due,
                           processes=inbox.list_process_ids(ctx), customer_id=customer_id,
                           customers=inbox.list_inbox_customers(ctx, g.actor))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"], endpoint="task_detail")
@login_required
def task_detail(task_id: int):
    ctx = get_ctx()
    task = inbox.get_task(ctx, task_id, g.actor)
    if request.method == "GET" and task["status"] != "open":
        raise NotFound(f"task {task_id} is not open: it was already decided or withdrawn")
    task = {**task, "form": instances.form_for_pages(task["form"])}  # a task without a form: Complete with a comment
    case = task_context.get_task_context(ctx, task_id, g.actor)
    if request.method == "GET":
        return render_template("staff/task.html", task=task, case=case, values={}, errors={}, message=None)
    data = task_form_data(task["form"], request.form)
    try:
        row = instances.complete_task(ctx, task_id, data, g.actor, strict=True)
    except InvalidInput as err:
        return render_template("staff/task.html", task=task, case=case, values=data,
                               errors=field_errors(task["form"], str(err)), message=str(err)), 400
    flash(_done_message(case, data))
    if g.staff.role not in OFFICE_ROLES:  # the case pages are managers' and admins'
        return redirect(url_for("staff.inbox"))
    return redirect(url_for("instances.case", instance_id=row.id))


def _done_message(case: dict, data: dict) -> str:
    """What was done, naming the case by what it is ("Approved: Job Window cleaning, Mill House")."""
    what = ", ".join(part for part in (case["subject"]["label"] or case["title"],
                                       (case["customer"] or {}).get("name")) if part)
    if data.get("answer"):
        return f"Answer sent: {what}."
    decision = data.get("decision")
    verb = {"approve": "Approved", "reject": "Rejected"}.get(decision, "Completed") if isinstance(decision, str) \
        else "Completed"
    return f"{verb}: {what}."
