"""Refused BPMN files in a modeller's words: every problem names the file, the element and the construct, several
at once, in a useful order; a file with several executable processes deploys them all or none."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import DeployError, NotAllowed
from engine.models import ProcessVersion
from engine.services.context import SYSTEM, Actor
from engine.services.deployments import check_bpmn, deploy_file
from engine.services.instances import start_instance
from engine.workflow.parser import SignoffParser
from tests.engine.helpers import only_open_task

ROOT = Path(__file__).resolve().parents[2]
REFUSALS = ROOT / "tests/fixtures/bpmn/refusals"
TWO = (ROOT / "tests/fixtures/bpmn/two_processes.bpmn").read_bytes()
LIBRARY_WORDS = ("TypeError", "raise_validation_exception", "<Element", "Unknown Time Specification",
                 "There is no support implemented", "Multiple outgoing flows are not supported",
                 "has no implementation", "Cannot resolve", "SubWorkflow", "SpiffWorkflow")

# fixture → (element id, construct, what the message says)
REFUSED = {
    "business_rule_task": ("work", "Business rule task", "no decision tables"),
    "data_output_unresolved": ("work", "Task", "not a data object of this process"),
    "data_store": ("employee_store", "Data store", "Signoff keeps no data stores"),
    "empty_condition": ("f2", "Sequence flow", "the condition is empty"),
    "message_without_name": ("invoice_message", "Message", "the message has no name"),
    "schema_error": ("dangling_flow", "Sequence flow", "'sourceRef' is required"),
    "several_outgoing_flows": ("work", "Task", "several outgoing flows"),
    "sub_process_without_start": ("work", "Sub-process", "exactly one start event"),
    "timer_without_time": ("work", "Timer event", "the timer has no time set"),
}


def version_count(ctx) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessVersion))


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refusal_names_the_file_the_element_and_the_construct_in_a_modellers_words(ctx, case):
    element_id, construct, words = REFUSED[case]
    data = (REFUSALS / f"{case}.bpmn").read_bytes()
    [problem] = check_bpmn(ctx, data, f"{case}.bpmn")
    assert (problem.filename, problem.element_id, problem.construct) == (f"{case}.bpmn", element_id, construct)
    text = str(problem)
    assert text.startswith(f"{case}.bpmn: ") and f"{construct} {element_id!r}" in text and words in text
    assert not any(library in text for library in LIBRARY_WORDS), text
    assert ":" in problem.message and len(problem.message.split(":", 1)[1].strip()) > 10  # says what to do
    with pytest.raises(DeployError) as refused:
        deploy_file(ctx, SYSTEM, data, f"{case}.bpmn")
    assert refused.value.problems == [problem] and str(refused.value) == text
    assert version_count(ctx) == 0


def test_the_schema_error_gives_its_line(ctx):
    [problem] = check_bpmn(ctx, (REFUSALS / "schema_error.bpmn").read_bytes(), "schema_error.bpmn")
    assert problem.line == 8 and "line 8: " in str(problem)


def test_no_executable_process_comes_first_and_alone(ctx):
    """The file's only process is not executable and holds a FEEL condition: the manager hears about the first."""
    [problem] = check_bpmn(ctx, (REFUSALS / "no_executable_process.bpmn").read_bytes(), "flow.bpmn")
    assert problem.element_id is None and "no process is executable" in problem.message


THREE_FAULTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="three" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_acc" name="Accounting"><bpmn:flowNodeRef>check</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="post" name="Post" camunda:type="external" camunda:topic="ledger.post">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:scriptTask id="compute" name="Compute" scriptFormat="python"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>import os</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="check" name="Check"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="post" />
    <bpmn:sequenceFlow id="f2" sourceRef="post" targetRef="compute" />
    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="check" />
    <bpmn:sequenceFlow id="f4" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_every_task_problem_is_reported_at_once_in_document_order(ctx):
    problems = check_bpmn(ctx, THREE_FAULTS, "three.bpmn")
    assert [(p.element_id, p.construct) for p in problems] == [
        ("post", "Service task"), ("compute", "Script task"), ("check", "User task")]
    assert "no operation 'ledger.post'" in problems[0].message and "case.set_status" in problems[0].message
    assert "the script is refused" in problems[1].message
    assert "lane 'Accounting' is not mapped" in problems[2].message
    with pytest.raises(DeployError) as refused:
        deploy_file(ctx, SYSTEM, THREE_FAULTS, "three.bpmn")
    assert str(refused.value).splitlines() == [str(p) for p in problems]


def test_several_expression_problems_are_reported_together(ctx):
    data = (ROOT / "tests/fixtures/bpmn/camunda_style_review.bpmn").read_text(encoding="utf-8")
    data = data.replace(">PT48H<", "><").replace("${decision == 'approve'}", "=approved")
    problems = check_bpmn(ctx, data.encode(), "review.bpmn")
    assert [p.construct for p in problems] == ["Timer boundary event", "Sequence flow"]
    assert "FEEL" in problems[1].message and "no time set" in problems[0].message


def test_an_unexpected_library_exception_becomes_a_problem_not_a_traceback(ctx, monkeypatch):
    def explode(self, bpmn, filename=None):
        raise RuntimeError("something odd in the library")

    monkeypatch.setattr(SignoffParser, "add_bpmn_xml", explode)
    [problem] = check_bpmn(ctx, TWO, "two.bpmn")
    assert "SpiffWorkflow could not read this element: something odd in the library" in str(problem)


def test_a_file_with_two_executable_processes_deploys_both_and_each_runs(ctx):
    deployed = deploy_file(ctx, SYSTEM, TWO, "two.bpmn")
    assert [(d.process_id, d.version, d.created) for d in deployed] == [("intake", 1, True), ("follow_up", 1, True)]
    again = deploy_file(ctx, SYSTEM, TWO, "two.bpmn")
    assert [(d.process_id, d.version, d.created) for d in again] == [("intake", 1, False), ("follow_up", 1, False)]
    only_open_task(ctx, start_instance(ctx, "intake", {}), "register")
    only_open_task(ctx, start_instance(ctx, "follow_up", {}), "call_back")
    assert version_count(ctx) == 2


def test_a_problem_in_one_of_two_processes_stores_neither_and_names_it(ctx):
    data = TWO.replace(b'<bpmn:userTask id="call_back" name="Call the customer back">',
                       b'<bpmn:businessRuleTask id="call_back" name="Call the customer back">')
    data = data.replace(b'</bpmn:userTask>\n    <bpmn:endEvent id="follow_up_end">',
                        b'</bpmn:businessRuleTask>\n    <bpmn:endEvent id="follow_up_end">')
    with pytest.raises(DeployError) as refused:
        deploy_file(ctx, SYSTEM, data, "two.bpmn")
    assert [p.element_id for p in refused.value.problems] == ["call_back"]
    assert version_count(ctx) == 0


def test_who_deployed_is_recorded_and_only_managers_and_admins_may(ctx):
    manager = Actor("Mia Manager", staff_id=1, staff_role="manager")
    [deployed] = deploy_file(ctx, manager, (ROOT / "tests/fixtures/bpmn/sign_off_without_form.bpmn").read_bytes(),
                             "sign_off.bpmn")
    with ctx.uow() as uow:
        assert uow.session.scalar(select(ProcessVersion.deployed_by)) == "Mia Manager"
    for actor in (Actor("Eli", staff_id=2, staff_role="employee"), Actor("dana@x", frozenset({"customer"}))):
        with pytest.raises(NotAllowed):
            deploy_file(ctx, actor, TWO, "two.bpmn")
    assert version_count(ctx) == 1 and deployed.created


def test_check_bpmn_stores_nothing_and_finds_nothing_in_a_good_file(ctx):
    assert check_bpmn(ctx, TWO, "two.bpmn") == []
    assert check_bpmn(ctx, b"\xff\xfe not utf-8", "x.bpmn")[0].message.startswith("the file is not UTF-8")
    assert version_count(ctx) == 0


def test_a_duplicated_id_is_named_with_both_lines(ctx):
    data = TWO.replace(b'<bpmn:userTask id="call_back"', b'<bpmn:userTask id="register"')
    problems = check_bpmn(ctx, data, "two.bpmn")
    assert any(p.element_id == "register" and "used by 2 elements (lines 11, 18)" in p.message for p in problems)


MESSAGE_START = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:semantic="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:message id="invoice_message" name="invoice received" />
  <bpmn:process id="invoices" isExecutable="true">
    <bpmn:startEvent id="received" name="Invoice received"><bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:messageEventDefinition id="received_def" messageRef="REF" /></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="received" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_prefixed_message_reference_is_resolved_and_an_undefined_one_is_named(ctx):
    """Trisotech writes messageRef="semantic:Message_1" (valid BPMN, which the library did not resolve)."""
    assert check_bpmn(ctx, MESSAGE_START.replace(b"REF", b"semantic:invoice_message"), "invoices.bpmn") == []
    [problem] = check_bpmn(ctx, MESSAGE_START.replace(b"REF", b"no_such_message"), "invoices.bpmn")
    assert (problem.element_id, problem.construct) == ("received", "Message start event")
    assert "message 'no_such_message', which this file does not define" in problem.message
