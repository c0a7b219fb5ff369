"""/instances pages: the case list (filters of engine.services.case_list as a GET form, keyset paged) and the
case page (the version's diagram with the path and position, the story in words, variables, tasks, timers)."""

import json

from flask import g, render_template, request, url_for

from engine.services import case_choices, case_list, case_story
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.instances import bp
from webapp.pager import CURSOR, page_links, query_cursor


@bp.get("/", endpoint="index")
@office_required
def index():
    ctx = get_ctx()
    chosen = {key: value for key, value in request.args.items() if key != CURSOR}
    cases = case_list.list_cases(ctx, g.actor, chosen, query_cursor())  # a bad filter: InvalidInput → 400
    return render_template("instances/list.html", cases=cases, pages=page_links(cases), chosen=chosen,
                           choices=case_choices.list_case_choices(ctx, g.actor))


@bp.get("/<int:instance_id>", endpoint="case")
@office_required
def case(instance_id: int):
    story = case_story.get_case_story(get_ctx(), instance_id, g.actor)
    diagram = {"xml_url": url_for("processes.download", process=story["process_id"], version=story["version"]),
               "path": story["path"], "position": story["position"],
               "error": [story["error"]["element_id"]] if story["error"] else []}
    return render_template("instances/case.html", case=story, story=_folded(story["timeline"]),
                           diagram=json.dumps(diagram))


def _folded(timeline: list[dict]) -> list[dict]:
    """The timeline as main lines, each run of detail lines (the engine's own steps) folded into one entry."""
    entries: list[dict] = []
    for line in timeline:
        if line["level"] == "main":
            entries.append({"main": line})
        elif entries and "details" in entries[-1]:
            entries[-1]["details"].append(line)
        else:
            entries.append({"details": [line]})
    return entries
