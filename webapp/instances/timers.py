"""/instances/timers: what fires when across the cases in the viewer's scope (soonest first, keyset paged, by
process), and per reminder the catch-up choice after downtime (replay a missed reminder once, or skip it).

"Fire now" posts to the case page's own action (instances.fire_timer) with `next` pointing back here.
"""

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from engine.services import case_choices, upcoming_timers
from webapp.auth import office_required, safe_next
from webapp.extensions import get_ctx
from webapp.input_guard import parse_int
from webapp.instances import bp
from webapp.pager import page_links, query_cursor

CHOICE_WORDS = {"replay": "sent once, late", "skip": "skipped; the next one comes on time"}


@bp.get("/timers", endpoint="timers")
@office_required
def timers():
    ctx = get_ctx()
    process = request.args.get("process", "").strip()
    page = upcoming_timers.list_upcoming_timers(ctx, g.actor, process, query_cursor())  # bad cursor: 400
    return render_template("instances/timers.html", timers=page, pages=page_links(page), process=process,
                           processes=[p for p, _ in case_choices.list_case_choices(ctx, g.actor)["processes"]],
                           here=request.full_path.rstrip("?"))


@bp.post("/timers/catch-up", endpoint="catch_up")
@office_required
def catch_up():
    instance_id = parse_int(request.form.get("instance_id"), "instance_id")
    element_id = request.form.get("element_id", "").strip()
    if instance_id is None or not element_id:
        raise BadRequest("timer: say which case and which reminder (instance_id and element_id)")
    choice = request.form.get("choice", "").strip()
    name = upcoming_timers.set_catch_up(get_ctx(), g.actor, instance_id, element_id, choice)  # bad choice: 400
    flash(f"Case #{instance_id}: when {name} is missed, it will be {CHOICE_WORDS[choice]}.")
    return redirect(safe_next(request.form.get("next")) or url_for("instances.timers"), 303)
