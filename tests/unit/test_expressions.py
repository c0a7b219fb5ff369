"""Camunda-style timer and condition expressions are rewritten into Python."""

from xml.sax.saxutils import escape

import pytest

from engine.workflow.bpmn_xml import (
    BpmnFileError,
    normalize_expressions,
    parse_bpmn_bytes,
)
from engine.workflow.expressions import validate_python_expression

BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def document(process_body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs">
  <bpmn:process id="proc" isExecutable="true">{process_body}</bpmn:process>
</bpmn:definitions>""".encode()


def timer_event(element: str, text: str, event_id: str = "review_expired") -> str:
    return f"""
    <bpmn:boundaryEvent id="{event_id}" attachedToRef="review">
      <bpmn:timerEventDefinition id="TimerEventDefinition_1">
        <bpmn:{element} xsi:type="bpmn:tFormalExpression"
          >{escape(text)}</bpmn:{element}>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>"""


def sequence_flow(
    condition: str, flow_id: str = "Flow_approve", attrs: str = ""
) -> str:
    return f"""
    <bpmn:sequenceFlow id="{flow_id}" sourceRef="decide" targetRef="approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"{attrs}
        >{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""


def normalized_texts(process_body: str, tag: str) -> list[str | None]:
    root = parse_bpmn_bytes(document(process_body), "job.bpmn")
    normalize_expressions(root)
    return [element.text for element in root.iter(BPMN_NS + tag)]


def normalized_timer(element: str, text: str) -> str | None:
    (result,) = normalized_texts(timer_event(element, text), element)
    return result


def normalized_condition(condition: str) -> str | None:
    (result,) = normalized_texts(sequence_flow(condition), "conditionExpression")
    return result


def refusal(process_body: str) -> BpmnFileError:
    root = parse_bpmn_bytes(document(process_body), "job.bpmn")
    with pytest.raises(BpmnFileError) as caught:
        normalize_expressions(root)
    return caught.value


@pytest.mark.parametrize(
    ("element", "literal"),
    [
        ("timeDuration", "PT72H"),
        ("timeDuration", "P3D"),
        ("timeDuration", "P1DT12H"),
        ("timeDuration", "PT0.5S"),
        ("timeDate", "2026-12-01T09:00:00Z"),
        ("timeDate", "2026-12-01T09:00:00+01:00"),
        ("timeCycle", "R3/PT10H"),
        ("timeCycle", "R/P1D"),
        ("timeCycle", "R2/2026-12-01T09:00:00Z/PT1H"),
    ],
)
def test_bare_iso_timer_literal_becomes_a_quoted_string(
    element: str, literal: str
) -> None:
    assert normalized_timer(element, literal) == f'"{literal}"'


def test_timer_literal_is_stripped_of_whitespace() -> None:
    assert normalized_timer("timeDuration", "\n   PT72H  \n") == '"PT72H"'


def test_camunda_timer_expression_becomes_the_python_inside() -> None:
    assert normalized_timer("timeDuration", "${approval_period}") == "approval_period"


@pytest.mark.parametrize(
    "expression", ["'PT72H'", '"R/" + reminder_interval', "remaining_period_iso"]
)
def test_python_timer_expression_is_left_as_is(expression: str) -> None:
    assert normalized_timer("timeCycle", expression) == expression


@pytest.mark.parametrize(
    ("element", "text"),
    [
        ("timeDate", "2026-12-01T09:00:00"),
        ("timeDate", "2026-12-01"),
        ("timeCycle", "R2/2026-12-01T09:00:00/PT1H"),
    ],
)
def test_date_time_without_time_zone_is_refused(element: str, text: str) -> None:
    error = refusal(timer_event(element, text, event_id="deadline"))

    assert error.element_id == "deadline"
    assert "time zone is required" in error.message


@pytest.mark.parametrize(
    ("element", "text", "problem"),
    [
        ("timeDuration", "PT72", "not a valid ISO 8601 duration"),
        ("timeDate", "2026-13-01T09:00:00Z", "not a valid ISO 8601 date-time"),
        ("timeCycle", "R/PT1H/PT2H", "not a valid ISO 8601 recurring interval"),
        ("timeDuration", "2026-12-01T09:00:00Z", "timeDuration needs an ISO 8601"),
        ("timeCycle", "PT10H", "timeCycle needs an ISO 8601 cycle"),
    ],
)
def test_invalid_or_misplaced_timer_literal_is_refused(
    element: str, text: str, problem: str
) -> None:
    error = refusal(timer_event(element, text))

    assert error.element_id == "review_expired"
    assert problem in error.message


@pytest.mark.parametrize(
    ("condition", "python"),
    [
        ("${decision == 'approve'}", "decision == 'approve'"),
        ("${a && !b}", "a and not b"),
        ("${x != 'y' || z}", "x != 'y' or z"),
        ("${flag == true}", "flag == True"),
        ("${flag === false || other == null}", "flag == False or other == None"),
        ("${a&&b}", "a and b"),
        ("  ${ decision == 'reject' }\n", "decision == 'reject'"),
        ("${!(a || b)}", "not (a or b)"),
        ("${amount gt 100 and not approved}", "amount > 100 and not approved"),
    ],
)
def test_camunda_condition_is_translated_to_python(condition: str, python: str) -> None:
    assert normalized_condition(condition) == python


def test_negation_keeps_expression_language_precedence() -> None:
    # EL's `!a == b` is `(!a) == b`; Python's `not a == b` would be `not (a == b)`.
    assert normalized_condition("${!a == b}") == "(not a) == b"
    assert normalized_condition("${flag == !other}") == "flag == (not other)"


@pytest.mark.parametrize(
    "literal", ["'a && !b || c'", '"x != !y"', "'true null === false'"]
)
def test_string_literals_in_conditions_are_kept_intact(literal: str) -> None:
    assert normalized_condition(f"${{note == {literal} && ok}}") == (
        f"note == {literal} and ok"
    )


def test_condition_without_camunda_syntax_is_left_as_python() -> None:
    condition = "decision == 'approve' and not urgent"

    assert normalized_condition(condition) == condition


@pytest.mark.parametrize(
    "condition",
    [
        "${execution.getVariable('x')}",
        "#{decision == 'approve'}",
        "${approve(decision)}",
        "${urgent ? a : b}",
        "${a} && ${b}",
        "${empty comment}",
        "${decision in choices}",
    ],
)
def test_untranslatable_camunda_condition_is_refused(condition: str) -> None:
    error = refusal(sequence_flow(condition, flow_id="Flow_0x1"))

    assert error.element_id == "Flow_0x1"
    assert condition in error.message


@pytest.mark.parametrize(
    ("body", "element_id"),
    [
        (sequence_flow("decision ==", flow_id="Flow_broken"), "Flow_broken"),
        (sequence_flow("${a &&}", flow_id="Flow_dangling"), "Flow_dangling"),
        (sequence_flow("", flow_id="Flow_empty"), "Flow_empty"),
        (timer_event("timeDuration", "approval_period +", "late"), "late"),
        (timer_event("timeCycle", "0 0 9 * * ?", "cron"), "cron"),
    ],
)
def test_expression_syntax_error_is_refused_with_its_element_id(
    body: str, element_id: str
) -> None:
    error = refusal(body)

    assert error.element_id == element_id
    construct = "Sequence flow" if element_id.startswith("Flow") else "Timer boundary event"
    assert str(error).startswith(f"job.bpmn: {construct} '{element_id}': ")


def test_condition_in_another_script_language_is_refused() -> None:
    body = sequence_flow("x > 1", flow_id="Flow_js", attrs=' language="javascript"')

    assert "written in JavaScript ('javascript'), which Signoff does not evaluate" in refusal(body).message


def test_nothing_is_rewritten_when_a_later_expression_is_refused() -> None:
    body = timer_event("timeDuration", "PT72H") + sequence_flow("${a.b}")
    root = parse_bpmn_bytes(document(body), "job.bpmn")

    with pytest.raises(BpmnFileError):
        normalize_expressions(root)

    assert all(
        element.text == "PT72H" for element in root.iter(BPMN_NS + "timeDuration")
    )


def test_script_task_bodies_are_not_touched() -> None:
    script = "ok = ${a} && !b"
    body = f"""
    <bpmn:scriptTask id="compute" scriptFormat="python">
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>"""

    assert normalized_texts(body, "script") == [script]


def test_valid_python_expression_has_no_error() -> None:
    assert validate_python_expression("decision == 'approve' and not urgent") is None


@pytest.mark.parametrize("expression", ["decision ==", "a = 1", "", "   "])
def test_invalid_python_expression_is_explained(expression: str) -> None:
    assert validate_python_expression(expression)
