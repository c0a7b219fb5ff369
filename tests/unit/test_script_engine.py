"""Specs for the restricted script engine: sandbox, time limit, task data, clock helpers."""

import re
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment
from SpiffWorkflow.util.task import TaskState

from engine.workflow.script_engine import (
    RestrictedEnvironment,
    RestrictedScriptEngine,
    ScriptNotAllowed,
    ScriptTimeout,
    compile_expression,
)
from engine.workflow.script_functions import make_script_functions

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ESCAPE = "().__class__.__base__.__subclasses__()"
DAY = 86400
TIMEOUT_GRACE = 1.5  # seconds a 1.0 s time limit may take to stop a script


def private_name(name: str) -> str:
    return re.escape(f"names starting with '_' are not allowed: {name}")


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedScriptEngine(clock=lambda: NOON, time_limit=0.3).environment


@pytest.fixture
def functions() -> dict:
    return make_script_functions(lambda: NOON)


# --- the sandbox refuses escapes ------------------------------------------------------------


def test_class_hierarchy_escape_is_refused_in_a_script(env):
    with pytest.raises(ScriptNotAllowed, match=private_name("__class__")):
        env.execute(f"subclasses = {ESCAPE}", {})


def test_class_hierarchy_escape_is_refused_in_an_expression(env):
    with pytest.raises(ScriptNotAllowed, match=private_name("__subclasses__")):
        env.evaluate(ESCAPE, {})


@pytest.mark.parametrize("script", ["import os", "from os import path", "import os as system"])
def test_import_statements_are_refused(env, script):
    with pytest.raises(ScriptNotAllowed, match="imports are not allowed"):
        env.execute(script, {})


def test_dunder_import_call_is_refused(env):
    with pytest.raises(ScriptNotAllowed, match=private_name("__import__")):
        env.execute("os = __import__('os')", {})


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("open('/etc/passwd')", "open() is not allowed"),
        ("compile('1', 'f', 'eval')", "compile() is not allowed"),
        ("eval('1')", "Eval calls are not allowed"),
        ("exec('x = 1')", "Exec calls are not allowed"),
        ("type(1)", "type() is not allowed"),
        ("globals()", "globals() is not allowed"),
        ("vars()", "vars() is not allowed"),
        ("locals()", "locals() is not allowed"),
        ("dir()", "dir() is not allowed"),
    ],
)
def test_dangerous_builtins_are_refused(env, expression, message):
    with pytest.raises(ScriptNotAllowed, match=re.escape(message)):
        env.execute(f"result = {expression}", {})


def test_getattr_of_a_private_name_is_refused(env):
    with pytest.raises(ScriptNotAllowed, match=private_name("__class__")):
        env.evaluate("getattr(x, '__class__')", {"x": 1})


def test_getattr_of_a_public_name_works(env):
    assert env.evaluate("getattr(name, 'upper')()", {"name": "ann"}) == "ANN"


def test_str_format_is_refused_because_it_reaches_attributes(env):
    with pytest.raises(ScriptNotAllowed, match=re.escape("'str.format' is not available in scripts")):
        env.evaluate("'{0.real}'.format(x)", {"x": 1})


def test_class_definitions_are_refused(env):
    with pytest.raises(ScriptNotAllowed, match="class definitions are not allowed"):
        env.execute("class Thing:\n    pass", {})


def test_only_dicts_lists_and_sets_can_be_changed(env):
    with pytest.raises(ScriptNotAllowed, match="only dicts, lists and sets can be changed"):
        env.execute("def helper():\n    pass\nhelper.flag = 1", {})


@pytest.mark.parametrize(
    "script",
    [
        "big = 'x' * 10**9",
        "big = [0] * 10**9",
        "big = 2 ** 10**9",
        "big = 1 << 10**9",
        "big = 'x'\nbig *= 10**9",
        "big = range(10**9)",
    ],
)
def test_huge_values_are_refused_before_they_are_built(env, script):
    with pytest.raises(ScriptNotAllowed, match="would build a value over 100000"):
        env.execute(script, {})


@pytest.mark.parametrize("name", ["SystemExit", "KeyboardInterrupt", "BaseException"])
def test_scripts_cannot_raise_exceptions_that_bypass_error_handling(env, name):
    with pytest.raises(NameError, match=name):
        env.execute(f"raise {name}()", {})


def test_task_data_cannot_replace_a_guard(env):
    data = {"name": "ann", "_getattr_": lambda obj, name: "pwned"}
    assert env.evaluate("name.upper()", data) == "ANN"


# --- the time limit -------------------------------------------------------------------------


def test_endless_loop_stops_with_script_timeout_and_leaves_the_tracer_alone():
    def debugger_tracer(frame, event, arg):
        return None

    env = RestrictedScriptEngine(time_limit=1.0).environment
    previous = sys.gettrace()
    sys.settrace(debugger_tracer)
    started = time.monotonic()
    try:
        with pytest.raises(ScriptTimeout, match=re.escape("time limit of 1.0 s")):
            env.execute("while True: pass", {})
        assert sys.gettrace() is debugger_tracer
    finally:
        sys.settrace(previous)
    assert time.monotonic() - started < TIMEOUT_GRACE


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    try:\n        while True: pass\n    except Exception:\n        pass",
        "while True:\n    try:\n        while True: pass\n    except:\n        pass",
        "try:\n    while True: pass\nfinally:\n    while True: pass",
        "f = lambda n: n and (f(n - 1) or f(n - 1))\nf(60)",
        "def f(n):\n    return n and (f(n - 1) or f(n - 1))\nf(60)",
    ],
)
def test_scripts_cannot_escape_the_time_limit(env, script):
    with pytest.raises(ScriptTimeout):
        env.execute(script, {})


def test_endless_comprehension_in_an_expression_times_out(env):
    with pytest.raises(ScriptTimeout):
        env.evaluate("[1 for a in range(10**5) for b in range(10**5)]", {})


# --- normal scripts work --------------------------------------------------------------------


def test_loop_with_augmented_assignment_sums_minutes(env):
    data = {"hours": [{"minutes": 30}, {"minutes": 45}]}
    env.execute("total = 0\nfor h in hours: total += h['minutes']", data)
    assert data["total"] == 30 + 45


def test_dict_and_list_writes_work(env):
    data = {}
    script = "x = {'a': 1}; x['b'] = 2\nitems = [1]\nitems.append(2)\nitems[0] = 0\ndel x['a']"
    env.execute(script, data)
    assert data["x"] == {"b": 2} and data["items"] == [0, 2]


def test_comprehensions_fstrings_unpacking_and_string_methods_work(env):
    data = {"lines": {"ann": 3, "bob": 5}, "customer": "acme"}
    script = (
        "names = sorted(name.upper() for name in lines)\n"
        "big = {name: n for name, n in lines.items() if n > 4}\n"
        "first, second = names\n"
        "label = f'{customer.title()}: {sum(lines.values())} h, {len(names):02d} people'\n"
        "print('debug output is discarded')"
    )
    env.execute(script, data)
    assert data["names"] == ["ANN", "BOB"] and data["big"] == {"bob": 5}
    assert data["first"] == "ANN" and data["label"] == "Acme: 8 h, 02 people"
    assert not any(key.startswith("_") for key in data)


# --- task data semantics match TaskDataEnvironment ------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "approved = True",
        "amount = amount * 2",
        "del note",
        "lines = [amount, note]\nsummary = {'count': len(lines)}",
        "def double(v):\n    return v * 2\nresult = double(amount)",
        "stamp = now()\nwhere = region",
    ],
)
def test_execute_changes_task_data_like_task_data_environment(functions, script):
    expected, actual = {"amount": 10, "note": "hi"}, {"amount": 10, "note": "hi"}
    TaskDataEnvironment(dict(functions)).execute(script, expected, {"region": "eu"})
    RestrictedEnvironment(dict(functions)).execute(script, actual, {"region": "eu"})
    assert actual == expected


@pytest.mark.parametrize(
    "expression", ["amount > 5 and note == 'hi'", "region", "now", "[n for n in range(amount)]"]
)
def test_evaluate_sees_task_data_like_task_data_environment(functions, expression):
    data = {"amount": 3, "note": "hi", "now": "task data wins in expressions"}
    library = TaskDataEnvironment(dict(functions))
    expected = library.evaluate(expression, dict(data), {"region": "eu"})
    restricted = RestrictedEnvironment(dict(functions))
    assert restricted.evaluate(expression, dict(data), {"region": "eu"}) == expected


def test_engine_functions_are_not_copied_into_task_data(env):
    data = {"amount": 1}
    env.execute("stamp = now()", data)
    assert data == {"amount": 1, "stamp": "2026-11-24T12:00:00+00:00"}


def test_task_data_may_not_shadow_engine_functions(env):
    with pytest.raises(ValueError, match="now"):
        env.execute("x = 1", {"now": "yesterday"})


def test_failing_script_keeps_its_changes_but_no_engine_names(env):
    data = {}
    with pytest.raises(ZeroDivisionError):
        env.execute("done = 1\ndone = done / 0", data)
    assert data == {"done": 1}


def test_expressions_are_compiled_once_and_cached(env):
    expression = "decision == 'cached-approve'"
    env.evaluate(expression, {"decision": "x"})
    hits = compile_expression.cache_info().hits
    assert env.evaluate(expression, {"decision": "cached-approve"}) is True
    assert compile_expression.cache_info().hits == hits + 1


# --- clock-aware helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "since", "minimum", "expected"),
    [
        ("P10D", NOON - timedelta(days=5), "P1D", f"PT{5 * DAY}S"),  # half elapsed
        ("P10D", NOON - timedelta(days=20), "P1D", f"PT{DAY}S"),  # fully elapsed: the minimum
        ("P2D", NOON - timedelta(days=1, hours=12), "P1D", f"PT{DAY}S"),  # minimum beats 12 h
        ("P2W", NOON - timedelta(weeks=1), "PT1H", f"PT{7 * DAY}S"),  # weeks
        ("PT10S", NOON - timedelta(seconds=0.5), "PT0S", "PT10S"),  # rounds up to whole seconds
        ("P1DT1H30M", NOON, "PT1M", "PT91800S"),  # PT1M is one minute, not a month
        ("P1D", NOON + timedelta(hours=1), "PT0S", f"PT{DAY}S"),  # a future start adds nothing
    ],
)
def test_remaining_period(functions, period, since, minimum, expected):
    assert functions["remaining_period"](period, since.isoformat(), minimum) == expected


@pytest.mark.parametrize("period", ["P1M", "P1Y", "P1Y2DT3H"])
def test_remaining_period_refuses_years_and_months(functions, period):
    with pytest.raises(ValueError, match=f"no fixed length.*{period}"):
        functions["remaining_period"](period, NOON.isoformat())


@pytest.mark.parametrize("bad", ["P", "PT", "P1DT", "1D", "P1.5D", "-P1D"])
def test_malformed_durations_are_refused(functions, bad):
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        functions["add_duration"](NOON.isoformat(), bad)


def test_since_without_utc_offset_is_refused(functions):
    with pytest.raises(ValueError, match="UTC offset"):
        functions["remaining_period"]("P1D", "2026-11-24T12:00:00")


def test_add_duration_keeps_the_offset(functions):
    later = functions["add_duration"]("2026-11-24T17:00:00+01:00", "P1DT2H")
    assert later == "2026-11-25T19:00:00+01:00"


def test_now_follows_the_injected_clock_even_when_the_runtime_swaps_it():
    engine = RestrictedScriptEngine(clock=lambda: NOON)
    assert engine.environment.evaluate("now()", {}) == "2026-11-24T12:00:00+00:00"
    engine.clock = lambda: NOON + timedelta(days=3, microseconds=5)
    assert engine.environment.evaluate("now()", {}) == "2026-11-27T12:00:00+00:00"


def test_remaining_period_in_a_script_uses_the_engine_clock():
    engine = RestrictedScriptEngine(clock=lambda: NOON)
    data = {"review_started_at": (NOON - timedelta(days=2)).isoformat()}
    engine.environment.execute("left = remaining_period('P5D', review_started_at)", data)
    assert data["left"] == f"PT{3 * DAY}S"


# --- a real workflow ------------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
                  targetNamespace="signoff">
  <bpmn:process id="tiny_approval" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_decide" sourceRef="start" targetRef="decide"/>
    <bpmn:scriptTask id="decide"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_route" sourceRef="decide" targetRef="route"/>
    <bpmn:exclusiveGateway id="route" default="to_rejected"/>
    <bpmn:sequenceFlow id="to_approved" sourceRef="route" targetRef="approved">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_rejected" sourceRef="route" targetRef="rejected"/>
    <bpmn:endEvent id="approved"/>
    <bpmn:endEvent id="rejected"/>
  </bpmn:process>
</bpmn:definitions>"""
DECIDE = (
    "limit = credit_limit(customer)\n"
    "decision = 'approve' if amount &lt;= limit else 'reject'\n"
    "decided_at = now()"
)


def run_workflow(amount: int, script: str = DECIDE, condition: str = "decision == 'approve'"):
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.format(script=script, condition=condition).encode())
    engine = RestrictedScriptEngine(clock=lambda: NOON, functions={"credit_limit": lambda c: 1000})
    workflow = BpmnWorkflow(parser.get_spec("tiny_approval"), script_engine=engine)
    workflow.get_tasks(state=TaskState.READY)[0].data.update(amount=amount, customer="acme")
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize(
    ("amount", "taken", "skipped"), [(500, "approved", "rejected"), (5000, "rejected", "approved")]
)
def test_workflow_takes_the_gateway_path_chosen_by_the_script(amount, taken, skipped):
    workflow = run_workflow(amount)
    completed = {task.task_spec.name for task in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert workflow.is_completed() and taken in completed and skipped not in completed
    assert workflow.last_task.data["decided_at"] == "2026-11-24T12:00:00+00:00"


def test_refused_script_in_a_workflow_surfaces_with_its_message():
    with pytest.raises(WorkflowTaskException, match="ScriptNotAllowed: Line 1: imports are not"):
        run_workflow(1, script="import os")


def test_script_error_in_a_workflow_names_the_problem_and_line():
    with pytest.raises(WorkflowTaskException, match="KeyError: 3") as raised:
        run_workflow(1, script="missing = {}\nmissing[3]")
    assert (raised.value.line_number, raised.value.error_line) == (2, "missing[3]")


def test_refused_gateway_condition_surfaces_with_its_message():
    with pytest.raises(WorkflowTaskException, match=private_name("__class__")):
        run_workflow(1, condition=ESCAPE)


def test_service_tasks_are_left_to_the_runtime():
    with pytest.raises(NotImplementedError, match="service tasks are dispatched by the runtime"):
        RestrictedScriptEngine().call_service(task=None, operation_name="notify.send")
