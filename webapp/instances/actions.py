"""Operator actions on the case page (admins; managers on their own customers' cases): claim, reassign, fire a
timer now, retry, cancel, set a variable. Each is a small POST form calling one engine.services.operations
function; the result is flashed in words and the case page shown again. A refusal (no reason, a decided task, a
bad value) is the engine's message on a 400 page (NotFound 404, NotAllowed 403), and nothing changes."""

from flask import flash, g, redirect, request, url_for
from werkzeug.exceptions import BadRequest

from engine.services import operations
from webapp.auth import office_required, safe_next
from webapp.extensions import get_ctx
from webapp.input_guard import parse_int
from webapp.instances import bp


def _posted_id(name: str) -> int:
    """The id posted as `name`. :raises BadRequest: missing or not an id."""
    number = parse_int(request.form.get(name), name)
    if number is None:
        raise BadRequest(f"{name}: say which one (an id)")
    return number


def _reason() -> str:
    return request.form.get("reason", "")


def _back(instance_id: int, message: str):
    """Flash the outcome; back to the page the form came from when it says so (`next`, a path of this site:
    the timers page), else to the case page."""
    flash(message)
    return redirect(safe_next(request.form.get("next")) or url_for("instances.case", instance_id=instance_id), 303)


@bp.post("/<int:instance_id>/claim", endpoint="claim")
@office_required
def claim(instance_id: int):
    done = operations.claim_task(get_ctx(), g.actor, _posted_id("task_id"))
    return _back(done["instance_id"], f"You took task {done['task_id']}: it is offered to you only now.")


@bp.post("/<int:instance_id>/reassign", endpoint="reassign")
@office_required
def reassign(instance_id: int):
    done = operations.reassign_task(get_ctx(), g.actor, _posted_id("task_id"), _posted_id("to"), _reason())
    return _back(done["instance_id"], f"Task {done['task_id']} is now {done['assignee']}'s.")


@bp.post("/<int:instance_id>/fire-timer", endpoint="fire_timer")
@office_required
def fire_timer(instance_id: int):
    done = operations.fire_timer_now(get_ctx(), g.actor, _posted_id("timer_id"), _reason())
    outcome = f" It stopped with an error: {done['error']}" if done["error"] else f" The case is {done['status']}."
    return _back(done["instance_id"], f"The timer fired now.{outcome}")


@bp.post("/<int:instance_id>/retry", endpoint="retry")
@office_required
def retry(instance_id: int):
    done = operations.retry_instance(get_ctx(), g.actor, instance_id, _reason(),
                                     newest_version=request.form.get("newest_version") == "yes")
    outcome = f"it failed again: {done['error']}" if done["status"] == "error" else f"it is {done['status']} now"
    return _back(instance_id, f"Retried the case: {outcome}.")


@bp.post("/<int:instance_id>/cancel", endpoint="cancel")
@office_required
def cancel(instance_id: int):
    operations.cancel_case(get_ctx(), g.actor, instance_id, _reason())
    return _back(instance_id, "The case is cancelled: its tasks were withdrawn and its timers removed.")


@bp.post("/<int:instance_id>/variable", endpoint="set_variable")
@office_required
def set_variable(instance_id: int):
    name = request.form.get("name", "")
    operations.set_variable(get_ctx(), g.actor, instance_id, name, request.form.get("value", ""), _reason())
    return _back(instance_id, f"Variable {name.strip()} is set; the steps still to come see the new value.")
