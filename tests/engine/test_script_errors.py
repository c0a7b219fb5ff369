"""A failing script puts the instance in `error` at its last good state, with the cause and the element."""

import time

import pytest

from engine.config import Settings
from engine.services.context import SYSTEM, open_context
from engine.services.deployments import deploy_file
from engine.services.instances import cancel_instance, complete_task, start_instance
from tests.engine.helpers import completed_elements, events, instance, only_open_task, open_tasks

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
"""
TAIL = """    <bpmn:endEvent id="end"><bpmn:incoming>f{n}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def script(element_id: str, code: str) -> tuple[str, str]:
    return "scriptTask", (f'<bpmn:scriptTask id="{element_id}" name="{element_id}" scriptFormat="python">'
                          '{flows}<bpmn:script>' + code + '</bpmn:script></bpmn:scriptTask>')


def user(element_id: str) -> tuple[str, str]:
    return "userTask", (f'<bpmn:userTask id="{element_id}" name="{element_id}"><bpmn:extensionElements>'
                        '<camunda:formData><camunda:formField id="note" label="Note" type="string" />'
                        '</camunda:formData></bpmn:extensionElements>{flows}</bpmn:userTask>')


def chain(pid: str, *steps: tuple[str, str]) -> bytes:
    """start → steps in order → end, wired by flows f0, f1, …"""
    body, flows, prev = [], [], "start"
    for i, (_, xml) in enumerate(steps):
        element_id = xml.split('id="')[1].split('"')[0]
        wiring = f"<bpmn:incoming>f{i}</bpmn:incoming><bpmn:outgoing>f{i + 1}</bpmn:outgoing>"
        body.append(xml.replace("{flows}", wiring))
        flows.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="{element_id}" />')
        prev = element_id
    flows.append(f'<bpmn:sequenceFlow id="f{len(steps)}" sourceRef="{prev}" targetRef="end" />')
    return (HEAD.format(pid=pid) + "\n".join(body + flows) + TAIL.format(n=len(steps))).encode()


def run(ctx, pid: str, *steps, data=None) -> int:
    deploy_file(ctx, SYSTEM, chain(pid, *steps), f"{pid}.bpmn")
    return start_instance(ctx, pid, data or {"customer_id": 7})


def assert_in_error(ctx, iid: int, element: str, *words: str) -> None:
    row = instance(ctx, iid)
    assert row.status == "error"
    assert row.error_element == element
    for word in words:
        assert word in row.error_message
    errors = events(ctx, iid, "error")
    assert [e.element_id for e in errors] == [element]
    assert errors[0].data["message"] == row.error_message


def test_a_script_dividing_by_zero_at_start_puts_the_instance_in_error(ctx):
    iid = run(ctx, "divide", script("prepare", "total = 10"), script("divide_it", "x = 1/0"))
    assert_in_error(ctx, iid, "divide_it", "ZeroDivisionError")
    assert "divide_it" not in completed_elements(ctx, iid)
    assert instance(ctx, iid).ended_at is None


def test_a_script_failing_after_a_user_task_keeps_the_task_open(ctx):
    iid = run(ctx, "after_review", user("enter_note"), script("compute", "ratio = len(note) / 0"))
    task = only_open_task(ctx, iid, "enter_note")
    before = instance(ctx, iid)
    returned = complete_task(ctx, task.id, {"note": "hello"})
    assert returned.status == "error"
    assert_in_error(ctx, iid, "compute", "ZeroDivisionError")
    still = only_open_task(ctx, iid, "enter_note")
    assert still.id == task.id and still.completed_at is None
    assert events(ctx, iid, "task_completed") == []  # rolled back with the failed step
    after = instance(ctx, iid)
    assert after.state == before.state  # the last good saved state
    assert "note" not in after.data


def test_a_failing_script_names_the_script_not_its_neighbours(ctx):
    iid = run(ctx, "which_one", script("fine_one", "a = 1"), script("bad_name", "b = undefined_variable + 1"),
              script("never_runs", "c = 3"))
    assert_in_error(ctx, iid, "bad_name", "undefined_variable")
    assert "never_runs" not in completed_elements(ctx, iid)


def test_a_script_looping_forever_is_stopped_by_the_time_limit(database_url, clock):
    ctx = open_context(Settings(database_url=database_url, script_time_limit=0.2), clock=clock)
    try:
        started = time.monotonic()
        iid = run(ctx, "forever", user("enter_note"), script("spin", "while True: pass"))
        complete_task(ctx, only_open_task(ctx, iid, "enter_note").id, {"note": "go"})
        assert time.monotonic() - started < 5
        assert_in_error(ctx, iid, "spin", "time")
        assert "0.2" in instance(ctx, iid).error_message
        assert [t.element_id for t in open_tasks(ctx, iid)] == ["enter_note"]
    finally:
        ctx.db.dispose()


def test_a_forever_loop_at_start_is_stopped_too(database_url, clock):
    ctx = open_context(Settings(database_url=database_url, script_time_limit=0.2), clock=clock)
    try:
        iid = run(ctx, "forever_at_start", script("spin", "n = 0\nwhile True:\n    n = n + 1"))
        assert_in_error(ctx, iid, "spin", "time limit")
    finally:
        ctx.db.dispose()


@pytest.mark.parametrize("code, words", [
    ("x = [1, 2][5]", ("IndexError",)),
    ("x = {'a': 1}['b']", ("KeyError",)),
    ("x = int('nope')", ("ValueError",)),
])
def test_common_script_faults_are_reported_with_their_kind(ctx, code, words):
    iid = run(ctx, "faulty", script("fault", code))
    assert_in_error(ctx, iid, "fault", *words)


def test_an_instance_that_failed_at_start_can_be_cancelled(ctx):
    iid = run(ctx, "cancel_after_error", script("boom", "x = 1 / 0"))
    assert instance(ctx, iid).status == "error"
    cancel_instance(ctx, iid, reason="broken model")
    assert instance(ctx, iid).status == "cancelled"
