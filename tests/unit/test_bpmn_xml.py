"""Loading untrusted BPMN files: size limit, no DTDs, clear errors, SpiffWorkflow."""

import os
import socket
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.workflow.bpmn_xml import (
    MAX_BPMN_BYTES,
    BpmnFileError,
    normalize_expressions,
    parse_bpmn_bytes,
)

DEFINITIONS_OPEN = """<bpmn:definitions
    xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://bpmn.io/schema/bpmn">"""
MINIMAL_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
{DEFINITIONS_OPEN}
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start" />
  </bpmn:process>
</bpmn:definitions>
"""
REVIEW_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
{DEFINITIONS_OPEN}
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_gateway" sourceRef="start" targetRef="decide" />
    <bpmn:exclusiveGateway id="decide" default="to_rejected" />
    <bpmn:sequenceFlow id="to_review" sourceRef="decide" targetRef="review">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >${{decision == 'approve' &amp;&amp; !urgent}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_rejected" sourceRef="decide" targetRef="rejected" />
    <bpmn:userTask id="review" />
    <bpmn:boundaryEvent id="review_expired" attachedToRef="review">
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT72H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="to_approved" sourceRef="review" targetRef="approved" />
    <bpmn:sequenceFlow id="to_expired" sourceRef="review_expired" targetRef="expired" />
    <bpmn:endEvent id="approved" />
    <bpmn:endEvent id="rejected" />
    <bpmn:endEvent id="expired" />
  </bpmn:process>
</bpmn:definitions>
"""


def with_doctype(doctype: str) -> bytes:
    """MINIMAL_BPMN with `doctype` after the XML declaration and `&e;` in the body."""
    declaration, rest = MINIMAL_BPMN.split("\n", 1)
    body = rest.replace('<bpmn:startEvent id="start" />', "<bpmn:startEvent>&e;")
    body = body.replace("</bpmn:process>", "</bpmn:startEvent></bpmn:process>")
    return f"{declaration}\n{doctype}\n{body}".encode()


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    return with_doctype(f"<!DOCTYPE lolz [{''.join(entities)}]>").replace(
        b"&e;", b"&lol9;"
    )


@pytest.fixture
def parser_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if lxml is asked to parse anything."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the XML parser was called")

    monkeypatch.setattr(etree, "fromstring", refuse)
    monkeypatch.setattr(etree, "XMLParser", refuse)


def test_valid_file_parses_into_its_definitions_element() -> None:
    root = parse_bpmn_bytes(MINIMAL_BPMN.encode(), "proc.bpmn")

    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"
    assert root.get("id") == "defs"


def test_external_entity_is_refused_without_leaking_the_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-7f3a9c")
    data = with_doctype(f'<!DOCTYPE x [<!ENTITY e SYSTEM "{secret_file.as_uri()}"> ]>')

    with pytest.raises(BpmnFileError) as caught:
        parse_bpmn_bytes(data, "job.bpmn")

    error = caught.value
    assert "DOCTYPE" in error.message
    assert all(
        "TOP-SECRET" not in text
        for text in (str(error), error.message, repr(error), repr(error.args))
    )


def test_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    # Opening a FIFO that nobody writes to blocks: a parser that tried would hang.
    fifo = tmp_path / "never_opened"
    os.mkfifo(fifo)
    data = with_doctype(f'<!DOCTYPE x [<!ENTITY e SYSTEM "{fifo.as_uri()}"> ]>')
    outcome: list[BaseException] = []

    def parse() -> None:
        try:
            parse_bpmn_bytes(data, "job.bpmn")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=parse, daemon=True)
    worker.start()
    worker.join(timeout=5)

    assert not worker.is_alive(), "the parser tried to read the entity's file"
    assert all(isinstance(exc, BpmnFileError) for exc in outcome)
    assert len(outcome) == 1


def test_external_dtd_is_refused_without_network_access() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        data = with_doctype(
            f'<!DOCTYPE definitions SYSTEM "http://127.0.0.1:{port}/x.dtd">'
        ).replace(b"&e;", b"")

        with pytest.raises(BpmnFileError, match="DOCTYPE"):
            parse_bpmn_bytes(data, "job.bpmn")

        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()


@pytest.mark.parametrize(
    ("doctype", "encoding"),
    [
        ('<!DOCTYPE x [<!ENTITY e "inline">]>', "utf-8"),
        ('<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>', "utf-8"),
        ('<!DOCTYPE definitions SYSTEM "http://127.0.0.1:9/x.dtd">', "utf-8"),
        ("<!DOCTYPE definitions>", "utf-8"),
        ('<!DOCTYPE x [<!ENTITY e "inline">]>', "utf-16"),
    ],
    ids=["internal", "parameter", "external-dtd", "bare", "utf-16"],
)
def test_any_doctype_is_refused_before_parsing(
    doctype: str, encoding: str, parser_must_not_run: None
) -> None:
    text = with_doctype(doctype).decode().replace('encoding="UTF-8"', "")

    with pytest.raises(BpmnFileError, match="DOCTYPE or ENTITY"):
        parse_bpmn_bytes(text.encode(encoding), "job.bpmn")


def test_billion_laughs_is_refused_quickly_in_little_memory() -> None:
    data = billion_laughs()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(BpmnFileError, match="DOCTYPE"):
            parse_bpmn_bytes(data, "lol.bpmn")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert elapsed < 1
    assert peak < 5 * 1024 * 1024


def test_billion_laughs_never_reaches_the_parser(parser_must_not_run: None) -> None:
    # tracemalloc cannot see libxml2's C heap; not parsing at all is the real guarantee.
    with pytest.raises(BpmnFileError, match="DOCTYPE"):
        parse_bpmn_bytes(billion_laughs(), "lol.bpmn")


def test_file_over_the_size_limit_is_refused_before_parsing(
    parser_must_not_run: None,
) -> None:
    data = MINIMAL_BPMN.encode().ljust(MAX_BPMN_BYTES + 1)

    with pytest.raises(BpmnFileError) as caught:
        parse_bpmn_bytes(data, "big.bpmn")

    assert str(MAX_BPMN_BYTES) in caught.value.message
    assert "2 MiB" in caught.value.message


def test_file_of_exactly_the_size_limit_is_accepted() -> None:
    data = MINIMAL_BPMN.encode().ljust(MAX_BPMN_BYTES)

    assert parse_bpmn_bytes(data, "big.bpmn").get("id") == "defs"


def test_malformed_xml_is_refused_with_its_line_number() -> None:
    data = MINIMAL_BPMN.replace("</bpmn:process>", "</bpmn:proces>").encode()

    with pytest.raises(BpmnFileError) as caught:
        parse_bpmn_bytes(data, "job.bpmn")

    line = MINIMAL_BPMN.splitlines().index("  </bpmn:process>") + 1
    assert f"at line {line}:" in caught.value.message
    assert caught.value.filename == "job.bpmn"


@pytest.mark.parametrize(
    "document",
    [
        "<html><body/></html>",
        '<definitions xmlns="http://www.omg.org/spec/DD/20100524/DC"/>',
        '<bpmn:process xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
    ],
)
def test_non_bpmn_root_is_refused_with_a_clear_message(document: str) -> None:
    with pytest.raises(BpmnFileError, match="expected BPMN 2.0") as caught:
        parse_bpmn_bytes(document.encode(), "page.bpmn")

    assert "root element" in caught.value.message


def test_error_reads_as_one_line_naming_file_and_element() -> None:
    with_element = BpmnFileError("job.bpmn", "bad\ntimer", element_id="review_job")
    without_element = BpmnFileError("job.bpmn", "not well-formed")

    assert str(with_element) == "job.bpmn: Element 'review_job': bad timer"
    assert str(without_element) == "job.bpmn: not well-formed"
    assert without_element.element_id is None


def test_normalized_tree_runs_in_spiffworkflow() -> None:
    root = parse_bpmn_bytes(REVIEW_PROCESS.encode(), "x.bpmn")
    normalize_expressions(root)
    parser = BpmnParser()
    parser.add_bpmn_xml(root, filename="x.bpmn")
    spec = parser.get_spec("proc")

    workflow = BpmnWorkflow(spec)
    workflow.task_tree.data.update(decision="approve", urgent=False)
    workflow.do_engine_steps()

    ready = workflow.get_tasks(state=TaskState.READY)
    assert [task.task_spec.name for task in ready] == ["review"]
    (timer,) = workflow.waiting_events()
    due = datetime.fromisoformat(timer.value)
    expected = datetime.now(UTC) + timedelta(hours=72)
    assert abs(due - expected) < timedelta(minutes=1)


def test_normalized_condition_is_false_for_urgent_requests() -> None:
    root = parse_bpmn_bytes(REVIEW_PROCESS.encode(), "x.bpmn")
    normalize_expressions(root)
    parser = BpmnParser()
    parser.add_bpmn_xml(root, filename="x.bpmn")

    workflow = BpmnWorkflow(parser.get_spec("proc"))
    workflow.task_tree.data.update(decision="approve", urgent=True)
    workflow.do_engine_steps()

    assert workflow.is_completed()
    finished = workflow.get_tasks(state=TaskState.COMPLETED)
    assert any(task.task_spec.name == "rejected" for task in finished)
