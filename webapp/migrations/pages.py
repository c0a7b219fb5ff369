"""/migrations pages: the form (process, from and to version, the case list's filters) with the preview of what a
move would do, and the move itself (POST, with a reason) showing what moved and what stayed and why.

Only admins migrate: the engine refuses everyone else (NotAllowed → the 403 page says so). A version the process
does not have, the same version twice, a bad filter or no reason is a 400 page naming it, and nothing moves.
Pressing "Move" again is harmless: the cases already moved are no longer of the source version, so the second
run finds none and says so.
"""

from flask import g, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from engine.services import case_choices, case_migration
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.input_guard import parse_int
from webapp.migrations import bp

OWN_FIELDS = ("process", "from", "to", "reason", "csrf_token")  # the rest of a request are case list filters


def _filters(values: MultiDict) -> dict[str, str]:
    """The case list filters of a request (empty ones left out; the engine refuses unknown ones by name)."""
    return {key: value for key, value in values.items() if key not in OWN_FIELDS and value.strip()}


def _version(values: MultiDict, name: str, process: str, versions: list[int], default: int | None) -> int | None:
    """The version chosen as `name`, else `default`. :raises BadRequest: not a version of the process."""
    number = parse_int(values.get(name), name)
    if number is None:
        return default
    if number not in versions:
        raise BadRequest(f"{name}: {process} has no version {number} (its versions: "
                         f"{', '.join(map(str, versions))})")
    return number


def _choice(values: MultiDict, known: dict[str, list[dict]], defaults: bool) -> dict:
    """The process and versions asked for; with `defaults`, from = the oldest version with cases to move and
    to = the newest. :raises BadRequest: an unknown process or version, or (without defaults) one left out."""
    process = (values.get("process") or "").strip()
    if not process:
        if defaults:
            return {"process": "", "from": None, "to": None}
        raise BadRequest("process: say which process's cases move")
    if process not in known:
        raise BadRequest(f"process: there is no process {process[:200]!r}")
    versions = [v["version"] for v in known[process]]
    with_cases = [v["version"] for v in known[process] if v["movable"]]
    source = _version(values, "from", process, versions, (with_cases or versions)[0] if defaults else None)
    target = _version(values, "to", process, versions, versions[-1] if defaults else None)
    if source is None or target is None:
        raise BadRequest(f"{'from' if source is None else 'to'}: say which version")
    return {"process": process, "from": source, "to": target}


@bp.get("/", endpoint="index")
@office_required
def index():
    ctx = get_ctx()
    known = case_migration.list_migration_versions(ctx, g.actor)  # not an admin: NotAllowed → 403
    chosen = _choice(request.args, known, defaults=True)
    filters = _filters(request.args)
    # a default pair of one version (a process deployed once) is no question yet; the same version asked for
    # twice is, and the engine's answer is the 400 page
    asked = all(request.args.get(name, "").strip() for name in ("from", "to"))
    preview = None
    if chosen["process"] and (chosen["from"] != chosen["to"] or asked):
        preview = case_migration.preview_migration(ctx, g.actor, chosen["process"], chosen["from"], chosen["to"],
                                                   filters)
    return render_template("migrations/page.html", known=known, chosen=chosen, filters=filters, preview=preview,
                           choices=case_choices.list_case_choices(ctx, g.actor))


@bp.post("/", endpoint="run")
@office_required
def run():
    ctx = get_ctx()
    known = case_migration.list_migration_versions(ctx, g.actor)
    chosen = _choice(request.form, known, defaults=False)
    filters = _filters(request.form)
    result = case_migration.migrate_cases(ctx, g.actor, chosen["process"], chosen["from"], chosen["to"], filters,
                                          request.form.get("reason", ""))
    again = url_for("migrations.index", **filters, **chosen)
    return render_template("migrations/result.html", filters=filters, result=result, again=again)


@bp.app_template_global("migration_link")
def migration_link(chosen: dict[str, str]) -> str:
    """The migration page for the case list's current filters (its `version` is the version the cases move from)."""
    args = {key: value for key, value in chosen.items() if value and value.strip()}
    if "version" in args:
        args["from"] = args.pop("version")
    return url_for("migrations.index", **args)
