"""/monitor/?process=…&version=…: where a version's cases are (engine.services.process_stats) on its diagram and
in a table, filtered by period and customer. The version is chosen by query arguments, as on /processes."""

import json

from flask import g, render_template, request, url_for

from engine.isotime import span_words
from engine.services import case_choices, process_catalog, process_stats
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.input_guard import query_process_version
from webapp.monitor import bp

FILTERS = ("period_from", "period_to", "customer")  # the filter form's fields, as get_process_stats takes them
BAND_WORDS = {"fast": "fast", "slow": "slow", "stuck": "stuck", "": "—"}


def _row(stats: process_stats.ElementStats, summary, customer: str) -> dict:
    """One element's numbers for the table and the diagram, with its durations in words and the address of the
    case list filtered to the cases waiting there (of the chosen customer, as the count is)."""
    cases = url_for("instances.index", process=summary.process_id, version=summary.version,
                    waiting_at=stats.element_id, **({"customer": customer} if customer else {}))
    return {"id": stats.element_id, "name": stats.name, "waiting": stats.waiting, "timers": stats.timers,
            "decided": stats.decided, "median": span_words(stats.median_seconds), "p90": span_words(stats.p90_seconds),
            "band": stats.band, "band_words": BAND_WORDS[stats.band], "user_task": stats.user_task,
            "cases_url": cases}


@bp.get("/", endpoint="process")
@office_required
def process():
    process_id, version = query_process_version()
    ctx = get_ctx()
    summary, _xml = process_catalog.get_version(ctx, g.actor, process_id, version)  # no such version: 404
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    stats = process_stats.get_process_stats(ctx, summary.process_id, summary.version, g.actor, **chosen)  # 400
    rows = [_row(element, summary, chosen["customer"]) for element in stats.values()
            if element.user_task or element.waiting or element.timers]
    choices = case_choices.list_case_choices(ctx, g.actor)
    diagram = {"xml_url": url_for("processes.download", process=summary.process_id, version=summary.version),
               "elements": rows}
    return render_template(
        "monitor/process.html", summary=summary, rows=rows, chosen=chosen, customers=choices["customers"],
        versions=dict(choices["processes"]).get(summary.process_id, []), diagram=json.dumps(diagram),
        filters={name: value for name, value in chosen.items() if value},
        fast_below=span_words(process_stats.FAST_BELOW.total_seconds()),
        stuck_from=span_words(process_stats.STUCK_FROM.total_seconds()))
