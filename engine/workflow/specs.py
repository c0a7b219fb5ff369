"""Turn BPMN bytes into a validated process spec, and cache specs per deployed version.

Validation happens before anything is stored; every fault is a BpmnFileError naming file and element.
"""

import ast
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ScriptTask, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.service_tasks import handlers  # noqa: F401  (registers the shipped operations)
from engine.service_tasks.registry import get_handler
from engine.workflow.bpmn_xml import BPMN_NS, BpmnFileError, normalize_expressions, parse_bpmn_bytes
from engine.workflow.forms import check_rules
from engine.workflow.parser import ServiceTask, SignoffParser
from engine.workflow.script_engine import ScriptNotAllowed, compile_expression, compile_script
from engine.workflow.timers import interval_of, too_short

DEFAULT_LANE_ROLES = {"Customer": "customer", "Manager": "manager", "Staff": "staff"}
ROLES = frozenset(DEFAULT_LANE_ROLES.values())


@dataclass
class ParsedProcess:
    """A validated process: its id, spec, subprocess specs and lane → role mapping."""

    process_id: str
    spec: object
    subprocess_specs: dict
    lane_roles: dict[str, str]
    bpmn_hash: str


def bpmn_hash(data: bytes, lane_roles: dict[str, str]) -> str:
    """Identity of a deployment: the file's bytes plus its lane mapping."""
    mapping = json.dumps(sorted(lane_roles.items())).encode()
    return hashlib.sha256(data + b"\0" + mapping).hexdigest()


def parse_process(data: bytes, filename: str, lane_roles: dict[str, str] | None = None,
                  min_timer_seconds: float = 0) -> ParsedProcess:
    """Parse and validate a BPMN file; the first executable process is the one deployed.

    `min_timer_seconds` is the floor for literal timer durations and cycles (deployment passes the
    setting; a stored version is re-parsed without it, so raising the floor never breaks old versions).

    :raises BpmnFileError: naming the file, the element id and the fault.
    """
    lane_roles = {**DEFAULT_LANE_ROLES, **(lane_roles or {})}
    for lane, role in lane_roles.items():
        if role not in ROLES:
            raise BpmnFileError(filename, f"lane {lane!r} is mapped to unknown role {role!r}; "
                                          f"roles are {sorted(ROLES)}")
    root = parse_bpmn_bytes(data, filename)
    normalize_expressions(root)
    executable = [p.get("id") for p in root.iterfind(f"{{{BPMN_NS}}}process") if p.get("isExecutable") == "true"]
    if not executable:
        raise BpmnFileError(filename, "no executable process (set isExecutable=\"true\" on a bpmn:process)")
    parser = SignoffParser()
    try:
        parser.add_bpmn_xml(root, filename)
        spec = parser.get_spec(executable[0])
        subprocess_specs = parser.get_subprocess_specs(executable[0])
    except ValidationException as err:
        raise BpmnFileError(filename, str(err).split("\n")[0], err.id or None) from err
    except SpiffWorkflowException as err:
        raise BpmnFileError(filename, str(err)) from err
    for each in [spec, *subprocess_specs.values()]:
        _check_task_specs(each, filename, lane_roles, min_timer_seconds)
    return ParsedProcess(executable[0], spec, subprocess_specs, lane_roles, bpmn_hash(data, lane_roles))


def _check_task_specs(spec, filename: str, lane_roles: dict[str, str], min_timer_seconds: float) -> None:
    for task_spec in spec.task_specs.values():
        element = getattr(task_spec, "bpmn_id", None)
        if element is None:
            continue
        lane = getattr(task_spec, "lane", None)
        if lane is not None and lane not in lane_roles:
            raise BpmnFileError(filename, f"lane {lane!r} is not mapped to a role (map it with "
                                          f"--lanes {lane}=customer|manager|staff)", element)
        if isinstance(task_spec, ServiceTask):
            _check_service_task(task_spec, filename)
        if isinstance(task_spec, ScriptTask):
            _check_code(compile_script, task_spec.script, filename, element, "script")
        if isinstance(task_spec, UserTask):
            _check_form(task_spec.extensions.get("form", []), filename, element)
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            _check_code(compile_expression, definition.expression, filename, element, "timer expression")
            _check_timer_literal(definition, filename, element, min_timer_seconds)
        for condition, _ in getattr(task_spec, "cond_task_specs", []):
            if condition is not None:
                _check_code(compile_expression, condition.args[0], filename, element, "condition")


def _check_service_task(task_spec: ServiceTask, filename: str) -> None:
    if not task_spec.operation_name:
        raise BpmnFileError(filename, "service task names no operation (set camunda:topic)", task_spec.bpmn_id)
    if get_handler(task_spec.operation_name) is None:
        raise BpmnFileError(filename, f"service task operation {task_spec.operation_name!r} is not registered",
                            task_spec.bpmn_id)
    for name, (kind, text) in task_spec.operation_params.items():
        if kind == "expression":
            _check_code(compile_expression, text, filename, task_spec.bpmn_id, f"parameter {name!r}")


def _check_form(fields: list[dict], filename: str, element: str) -> None:
    known = {"string", "long", "boolean", "date", "enum"}
    for form_field in fields:
        if not form_field["id"]:
            raise BpmnFileError(filename, "a form field has no id", element)
        if form_field["type"] not in known:
            raise BpmnFileError(filename, f"form field {form_field['id']!r} has unsupported type "
                                          f"{form_field['type']!r}; supported: {sorted(known)}", element)
        if form_field["type"] == "enum" and not form_field["options"]:
            raise BpmnFileError(filename, f"enum field {form_field['id']!r} lists no values", element)
    problems = check_rules(fields)
    if problems:
        raise BpmnFileError(filename, "; ".join(problems), element)


def _check_timer_literal(definition: TimerEventDefinition, filename: str, element: str,
                         min_timer_seconds: float) -> None:
    """Refuse a literal duration or cycle below the floor (a computed one is checked when it is evaluated)."""
    try:
        value = ast.literal_eval(definition.expression)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return  # not a literal: an expression of the instance's data
    if not isinstance(value, str):
        return
    try:
        interval = interval_of(definition, value, datetime.now(UTC))
    except Exception as err:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad literals
        raise BpmnFileError(filename, f"timer {value!r} is not a valid ISO 8601 value: {err}", element) from None
    problem = interval and too_short(interval[1], min_timer_seconds, f"timer {interval[0]}", value)
    if problem:
        raise BpmnFileError(filename, problem, element)


def _check_code(compile_fn, source: str, filename: str, element: str, what: str) -> None:
    try:
        compile_fn(source)
    except (SyntaxError, ScriptNotAllowed) as err:
        raise BpmnFileError(filename, f"{what} refused: {err}", element) from err


_CACHE: dict[str, ParsedProcess] = {}


def cached_process(key: str, load_version: Callable[[], tuple[str, str, dict[str, str]]]) -> ParsedProcess:
    """The parsed spec of a stored version, by its hash; `load_version()` gives (xml, filename, lane_roles)
    and is called only the first time (versions are immutable, so the cache never goes stale)."""
    if key not in _CACHE:
        xml, filename, lane_roles = load_version()
        _CACHE[key] = parse_process(xml.encode(), filename, lane_roles)
    return _CACHE[key]
