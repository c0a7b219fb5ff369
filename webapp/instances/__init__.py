"""The instances blueprint (/instances, managers and admins): the case list with its filters (pages.py), the
case page with its diagram and story in words (pages.py), the operator actions on a case (actions.py), and the
upcoming timers across cases with their catch-up choices (timers.py)."""

from flask import Blueprint

bp = Blueprint("instances", __name__, url_prefix="/instances")


@bp.record_once
def _old_endpoint(state) -> None:
    """Links built as url_for("staff.instance_detail", …) (the case page's name before this blueprint) still
    build the case page's address; build-only, so the case page is matched (and checked) once, here."""
    state.app.add_url_rule("/instances/<int:instance_id>", endpoint="staff.instance_detail", build_only=True)


from webapp.instances import actions, pages, timers  # noqa: E402, F401, I001 - register the routes on bp
