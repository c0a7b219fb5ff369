"""The modeller's JSON endpoints (/processes/api/…): check, deploy, dry run, scenarios. Every POST carries the
CSRF token in the X-CSRFToken header; bad JSON, XML or steps get a 400 {"error": …}, never a 500."""

from flask import Blueprint, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from engine.errors import DeployError, InvalidInput, NotAllowed, NotFound
from engine.services import dry_runs, scenarios
from engine.services.deployments import check_bpmn, deploy_file
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.processes.replies import (
    deployed_sentence,
    problem_dict,
    problem_dicts,
    rerun_sentence,
    result_dict,
    scenario_dict,
)

api = Blueprint("api", __name__, url_prefix="/api")  # nested: processes.api.*, JSON errors
MAX_XML_BYTES = 5 * 1024 * 1024  # a large diagram is ~200 kB; the shipped ones are 40 kB
MAX_NAME = 200


class BadPayload(Exception):
    """The JSON body cannot be used; the message says which field and why."""


def _payload() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadPayload("send a JSON object (Content-Type: application/json), e.g. {\"xml\": \"<definitions …\"}")
    return body


def _text(body: dict, name: str, limit: int = MAX_NAME) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadPayload(f"{name}: missing; send it as a text value")
    if len(value) > limit or "\x00" in value:
        raise BadPayload(f"{name}: too long or contains a NUL byte")
    return value.strip()


def _diagram(body: dict) -> tuple[bytes, str]:
    """(the XML as bytes, its file name) from {"xml": …, "filename": "job_approval.bpmn"}."""
    xml = body.get("xml")
    if not isinstance(xml, str) or not xml.strip():
        raise BadPayload("xml: missing; send the diagram's BPMN XML as text")
    data = xml.encode("utf-8", "replace")
    if len(data) > MAX_XML_BYTES:
        raise BadPayload(f"xml: the diagram is larger than {MAX_XML_BYTES // (1024 * 1024)} MB")
    filename = _text(body, "filename") if body.get("filename") else "draft.bpmn"
    return data, filename


def _steps(body: dict) -> list:
    raw = body.get("steps", [])
    if not isinstance(raw, list) or not all(isinstance(step, dict) for step in raw):
        raise BadPayload("steps: send a list of steps such as {\"action\": \"wait\", \"duration\": \"P3D\"}")
    return dry_runs.parse_steps(raw)


def _start_data(body: dict) -> dict | None:
    start = body.get("start_data")
    if start is not None and not isinstance(start, dict):
        raise BadPayload("start_data: send an object of start variables, e.g. {\"period_end_action\": \"escalate\"}")
    return start


@api.post("/check", endpoint="check")
@office_required
def api_check():
    data, filename = _diagram(_payload())
    return jsonify(problems=[problem_dict(p) for p in check_bpmn(get_ctx(), data, filename)])


@api.post("/deploy", endpoint="deploy")
@office_required
def api_deploy():
    data, filename = _diagram(_payload())
    try:
        deployed = deploy_file(get_ctx(), g.actor, data, filename)
    except DeployError as err:
        return jsonify(error="Not deployed: see the problems.", problems=problem_dicts(err)), 400
    bindings = url_for("staff.settings") if g.staff.role == "admin" else url_for("staff.customers")
    return jsonify(message=deployed_sentence(deployed), bindings_url=bindings, problems=[],
                   deployed=[{"process_id": d.process_id, "version": d.version, "created": d.created}
                             for d in deployed],
                   processes_url=url_for("processes.index"))


@api.post("/dry-run", endpoint="dry_run")
@office_required
def api_dry_run():
    body = _payload()
    data, filename = _diagram(body)
    result = dry_runs.dry_run(get_ctx(), data, filename, _steps(body), _start_data(body))
    return jsonify(result_dict(result))


@api.get("/scenarios", endpoint="scenarios")
@office_required
def api_scenarios():
    process_id = request.args.get("process", "").strip()
    if not process_id or len(process_id) > MAX_NAME:
        raise BadPayload("process: say which process, e.g. ?process=job_approval")
    found = scenarios.list_scenarios(get_ctx(), g.actor, process_id)
    return jsonify(scenarios=[scenario_dict(s) for s in found])


@api.post("/scenarios", endpoint="save_scenario")
@office_required
def api_save_scenario():
    body = _payload()
    process_id, name = _text(body, "process_id"), _text(body, "name")
    expected = _text(body, "expected", 2000)
    saved = scenarios.save_scenario(get_ctx(), g.actor, process_id, name, _steps(body), expected, _start_data(body))
    return jsonify(message=f"Scenario '{saved.name}' saved with {saved.process_id}.", scenario=scenario_dict(saved))


@api.post("/scenarios/rerun", endpoint="rerun_scenarios")
@office_required
def api_rerun_scenarios():
    body = _payload()
    process_id = _text(body, "process_id")
    data, filename = _diagram(body)
    outcomes = scenarios.rerun_scenarios(get_ctx(), g.actor, process_id, data, filename)
    return jsonify(sentence=rerun_sentence(process_id, outcomes), all_same=all(o.same for o in outcomes),
                   outcomes=[{"scenario": scenario_dict(o.scenario), "result": result_dict(o.result), "same": o.same}
                             for o in outcomes])


def _api_error(status: int | None):
    def handle(err: Exception):
        message = err.description if isinstance(err, HTTPException) else str(err)
        return jsonify(error=message, problems=[]), status or getattr(err, "code", 400)
    return handle


# the API answers every refusal in JSON. Flask prefers an app handler for a status code (the app's CSRFError and
# 413 pages) over a blueprint's handler for HTTPException, so the codes the API can meet are registered one by one.
for _cls, _status in ((BadPayload, 400), (InvalidInput, 400), (NotFound, 404), (NotAllowed, 403)):
    api.register_error_handler(_cls, _api_error(_status))
for _code in (400, 403, 404, 405, 413, 429):
    api.register_error_handler(_code, _api_error(_code))
api.register_error_handler(HTTPException, _api_error(None))
