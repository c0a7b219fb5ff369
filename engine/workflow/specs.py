"""Turn BPMN bytes into validated process specs (one per executable process), and cache specs per stored version.

Validation happens before anything is stored; every fault is a Problem (engine.workflow.problems) naming file
and element, collected as many as the file allows, and raised together as one BpmnFileError.
"""

import ast
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ScriptTask, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.service_tasks import handlers  # noqa: F401  (registers the shipped operations)
from engine.service_tasks.registry import get_handler, operation_names
from engine.workflow.bpmn_xml import BpmnFileError, normalize_expressions, parse_bpmn_bytes
from engine.workflow.forms import check_rules
from engine.workflow.parser import ServiceTask, SignoffParser, schema_validator
from engine.workflow.prechecks import drop_data_stores, executable_processes, precheck, processes_in_scope
from engine.workflow.problems import Problem, from_unexpected, from_validation, problem_for, schema_problems
from engine.workflow.script_engine import ScriptNotAllowed, compile_expression, compile_script
from engine.workflow.timers import interval_of, too_short

Report = Callable[[str | None, str], None]  # report(element_id, message)
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


def bpmn_hash(data: bytes, lane_roles: dict[str, str], process_id: str | None = None) -> str:
    """Identity of a deployment: the file's bytes plus its lane mapping (plus the process id when the file holds
    several executable processes: each is its own stored version)."""
    mapping = json.dumps(sorted(lane_roles.items())).encode()
    which = b"\0" + process_id.encode() if process_id is not None else b""
    return hashlib.sha256(data + b"\0" + mapping + which).hexdigest()


def parse_processes(data: bytes, filename: str, lane_roles: dict[str, str] | None = None,
                    min_timer_seconds: float = 0, only: str | None = None) -> list[ParsedProcess]:
    """Parse and validate a BPMN file: one ParsedProcess per executable process (only `only`, if given).

    `min_timer_seconds` is the floor for literal timer durations and cycles (deployment passes the
    setting; a stored version is re-parsed without it, so raising the floor never breaks old versions).

    :raises BpmnFileError: with every problem found (`.problems`), each naming the file and the element.
    """
    parsed, problems = analyse(data, filename, lane_roles, min_timer_seconds, only)
    if problems:
        raise BpmnFileError.of(problems)
    return parsed


def parse_process(data: bytes, filename: str, lane_roles: dict[str, str] | None = None,
                  min_timer_seconds: float = 0) -> ParsedProcess:
    """The file's first executable process (see parse_processes).  :raises BpmnFileError: as parse_processes."""
    return parse_processes(data, filename, lane_roles, min_timer_seconds)[0]


def analyse(data: bytes, filename: str, lane_roles: dict[str, str] | None = None, min_timer_seconds: float = 0,
            only: str | None = None) -> tuple[list[ParsedProcess], list[Problem]]:
    """The file's processes and every problem, in order: the lane mapping, XML and schema errors, no executable
    process, then per element. Never raises for a bad file."""
    lane_roles = {**DEFAULT_LANE_ROLES, **(lane_roles or {})}
    problems = [Problem(filename, None, None, f"lane {lane!r} is mapped to unknown role {role!r}; "
                                              f"roles are {sorted(ROLES)}")
                for lane, role in lane_roles.items() if role not in ROLES]
    if problems:
        return [], problems
    try:
        root = parse_bpmn_bytes(data, filename)
    except BpmnFileError as err:
        return [], err.problems
    validator = schema_validator()
    validator.preprocess(root)
    problems = schema_problems(filename, root, validator.validator)
    if problems:
        return [], problems
    executable = [p.get("id") for p in executable_processes(root)]
    if not executable:
        return [], [Problem(filename, None, None, 'no process is executable: tick "Executable" on the process '
                                                  '(isExecutable="true") that Signoff should run')]
    try:
        return _parse_checked(root, data, filename, lane_roles, min_timer_seconds, [only] if only else executable)
    except Exception as err:  # noqa: BLE001 - whatever the library raises, the manager gets words, not a traceback
        return [], [from_unexpected(filename, root, err, getattr(err, "id", None))]


def _parse_checked(root, data: bytes, filename: str, lane_roles: dict[str, str], min_timer_seconds: float,
                   process_ids: list[str]) -> tuple[list[ParsedProcess], list[Problem]]:
    parser = SignoffParser()
    scope = processes_in_scope(root)
    problems = precheck(root, filename, scope, parser)
    try:
        normalize_expressions(root, within=scope)
    except BpmnFileError as err:
        problems = [*err.problems, *problems]
    if problems:
        return [], _in_document_order(root, problems)
    drop_data_stores(root)
    try:
        parser.add_bpmn_xml(root, filename)
    except ValidationException as err:
        return [], [from_validation(filename, root, err)]
    parsed = []
    for process_id in process_ids:
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except ValidationException as err:
            problems.append(from_validation(filename, root, err))
            continue
        report = partial(_report, problems, filename, root)
        for each in [spec, *subprocess_specs.values()]:
            _check_task_specs(each, report, lane_roles, min_timer_seconds)
        key = bpmn_hash(data, lane_roles, process_id if len(executable_processes(root)) > 1 else None)
        parsed.append(ParsedProcess(process_id, spec, subprocess_specs, lane_roles, key))
    return parsed, _in_document_order(root, list(dict.fromkeys(problems)))


def _report(problems: list[Problem], filename: str, root, element_id: str | None, message: str) -> None:
    problems.append(problem_for(filename, root, element_id, message))


def _in_document_order(root, problems: list[Problem]) -> list[Problem]:
    position = {element.get("id"): index for index, element in enumerate(root.iter()) if element.get("id")}
    return sorted(problems, key=lambda p: (p.element_id is not None, position.get(p.element_id, len(position))))


def _check_task_specs(spec, report: Report, lane_roles: dict[str, str], min_timer_seconds: float) -> None:
    unmapped = set()
    for task_spec in spec.task_specs.values():
        element = getattr(task_spec, "bpmn_id", None)
        if element is None:
            continue
        lane = getattr(task_spec, "lane", None)
        if lane is not None and lane not in lane_roles and lane not in unmapped:
            unmapped.add(lane)
            report(element, f"its lane {lane!r} is not mapped to a role: name the lane Customer, Manager or "
                            f"Staff, or map it when deploying (--lanes {lane}=customer|manager|staff)")
        if isinstance(task_spec, ServiceTask):
            _check_service_task(task_spec, report)
        if isinstance(task_spec, ScriptTask):
            _check_code(compile_script, task_spec.script, report, element, "the script")
        if isinstance(task_spec, UserTask):
            _check_form(task_spec.extensions.get("form", []), report, element)
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            _check_code(compile_expression, definition.expression, report, element, "the timer expression")
            _check_timer_literal(definition, report, element, min_timer_seconds)
        for condition, _ in getattr(task_spec, "cond_task_specs", []):
            if condition is not None:
                _check_code(compile_expression, condition.args[0], report, element, "a condition")


def _check_service_task(task_spec: ServiceTask, report: Report) -> None:
    if not task_spec.operation_name:
        report(task_spec.bpmn_id, "the service task names no operation: choose one of Signoff's topics "
                                  "(camunda:topic), e.g. case.set_status")
        return
    if get_handler(task_spec.operation_name) is None:
        report(task_spec.bpmn_id, f"Signoff has no operation {task_spec.operation_name!r}: choose one of "
                                  f"{', '.join(operation_names())}")
    for name, (kind, text) in task_spec.operation_params.items():
        if kind == "expression":
            _check_code(compile_expression, text, report, task_spec.bpmn_id, f"parameter {name!r}")


def _check_form(fields: list[dict], report: Report, element: str) -> None:
    known = {"string", "long", "boolean", "date", "enum"}
    for form_field in fields:
        if not form_field["id"]:
            report(element, "a form field has no id: give every field an id (the variable it sets)")
        elif form_field["type"] not in known:
            report(element, f"form field {form_field['id']!r} has unsupported type {form_field['type']!r}; "
                            f"supported: {sorted(known)}")
        elif form_field["type"] == "enum" and not form_field["options"]:
            report(element, f"enum field {form_field['id']!r} lists no values: add the values to choose from")
    if all(form_field["id"] for form_field in fields):
        problems = check_rules(fields)
        if problems:
            report(element, "; ".join(problems))


def _check_timer_literal(definition: TimerEventDefinition, report: Report, element: str,
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
        report(element, f"timer {value!r} is not a valid ISO 8601 value: {err}")
        return
    problem = interval and too_short(interval[1], min_timer_seconds, f"timer {interval[0]}", value)
    if problem:
        report(element, problem)


def _check_code(compile_fn, source: str, report: Report, element: str, what: str) -> None:
    try:
        compile_fn(source)
    except (SyntaxError, ScriptNotAllowed) as err:
        report(element, f"{what} is refused: {err}")


_CACHE: dict[str, ParsedProcess] = {}


def cached_process(key: str, load_version: Callable[[], tuple[str, str, dict[str, str], str]]) -> ParsedProcess:
    """The parsed spec of a stored version, by its hash; `load_version()` gives (xml, filename, lane_roles,
    process_id) and is called only the first time (versions are immutable, so the cache never goes stale)."""
    if key not in _CACHE:
        xml, filename, lane_roles, process_id = load_version()
        _CACHE[key] = parse_processes(xml.encode(), filename, lane_roles, only=process_id)[0]
    return _CACHE[key]
