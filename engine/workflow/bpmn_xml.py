"""Safe loading of uploaded (untrusted) BPMN XML, and rewriting of its expressions.

Nothing in a file may make the parser read files, reach the network or expand entities.
Camunda-style timer and condition expressions become the Python SpiffWorkflow evaluates.
"""

import re
from collections.abc import Callable
from functools import partial

from lxml import etree

from engine.workflow.expressions import (
    ExpressionError,
    translate_condition,
    translate_timer,
    validate_python_expression,
)

MAX_BPMN_BYTES = 2 * 1024 * 1024

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DEFINITIONS = f"{{{BPMN_NS}}}definitions"
_TIMER_DEFINITION = f"{{{BPMN_NS}}}timerEventDefinition"
_CONDITION = f"{{{BPMN_NS}}}conditionExpression"
_TIMER_ELEMENTS = {
    f"{{{BPMN_NS}}}{name}": name for name in ("timeDuration", "timeDate", "timeCycle")
}
# Markup that only a DTD uses, in every encoding lxml detects without a declaration.
_DTD_TOKENS = tuple(
    token.encode(encoding)
    for token in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


class BpmnFileError(Exception):
    """A refused BPMN file: its name, the offending element id when known, and why."""

    def __init__(
        self, filename: str, message: str, element_id: str | None = None
    ) -> None:
        self.filename = filename
        self.element_id = element_id
        self.message = message
        where = f"element {element_id!r}: " if element_id is not None else ""
        # One line, whatever the uploaded file put into ids or expressions.
        super().__init__(re.sub(r"\s*[\r\n]+\s*", " ", f"{filename}: {where}{message}"))


def parse_bpmn_bytes(data: bytes, filename: str) -> etree._Element:
    """Parse an uploaded BPMN file into its `bpmn:definitions` lxml element.

    The element is what SpiffWorkflow's `BpmnParser.add_bpmn_xml` takes.
    :raises BpmnFileError: too large, has a DTD, is not well-formed, or is not BPMN 2.0.
    """
    if len(data) > MAX_BPMN_BYTES:
        raise BpmnFileError(
            filename, f"file is larger than the {MAX_BPMN_BYTES} byte limit (2 MiB)"
        )
    # Refuse before parsing, so that no entity is ever declared, let alone expanded.
    if any(token in data for token in _DTD_TOKENS):
        raise BpmnFileError(
            filename, "a DOCTYPE or ENTITY declaration is not allowed in a BPMN file"
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        root = etree.fromstring(data, parser, base_url=filename)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else exc.lineno
        raise BpmnFileError(
            filename, f"not well-formed XML at line {line}: {exc.msg}"
        ) from exc
    docinfo = root.getroottree().docinfo
    # Second line of defence, for an encoding the byte check above does not know.
    if (
        docinfo.doctype
        or docinfo.internalDTD is not None
        or docinfo.externalDTD is not None
    ):
        raise BpmnFileError(
            filename, "a DOCTYPE or ENTITY declaration is not allowed in a BPMN file"
        )
    if root.tag != _DEFINITIONS:
        raise BpmnFileError(
            filename,
            f"the root element is {root.tag!r}, expected BPMN 2.0 {_DEFINITIONS!r}",
        )
    return root


def normalize_expressions(root: etree._Element) -> None:
    """Rewrite timer and condition expressions, in place, into Python.

    On an error nothing is rewritten. Script task bodies are never touched.
    :raises BpmnFileError: an expression that cannot be translated or is not Python.
    """
    filename = root.getroottree().docinfo.URL or "<bpmn>"
    rewrites: list[tuple[etree._Element, str]] = []
    for element in root.iter(*_TIMER_ELEMENTS):
        definition = element.getparent()
        if definition is None or definition.tag != _TIMER_DEFINITION:
            continue
        event = definition.getparent()
        owner = event.get("id") if event is not None else None
        kind = _TIMER_ELEMENTS[element.tag]
        text = _expression_text(element, filename, owner)
        translate = partial(translate_timer, element=kind)
        rewrites.append((element, _translated(translate, text, filename, owner)))
    for element in root.iter(_CONDITION):
        flow = element.getparent()
        owner = flow.get("id") if flow is not None else None
        language = element.get("language")
        if language and language.lower() != "python":
            raise BpmnFileError(
                filename, f"condition language {language!r} is not supported", owner
            )
        text = _expression_text(element, filename, owner)
        rewrites.append(
            (element, _translated(translate_condition, text, filename, owner))
        )
    for element, expression in rewrites:
        element.text = expression


def _expression_text(element: etree._Element, filename: str, owner: str | None) -> str:
    """The expression text; child nodes would hide part of it from SpiffWorkflow."""
    if len(element):
        raise BpmnFileError(
            filename, "an expression must be plain text, without child nodes", owner
        )
    return element.text or ""


def _translated(
    translate: Callable[[str], str], text: str, filename: str, owner: str | None
) -> str:
    try:
        expression = translate(text)
    except ExpressionError as exc:
        raise BpmnFileError(filename, str(exc), owner) from exc
    problem = validate_python_expression(expression)
    if problem:
        raise BpmnFileError(filename, problem, owner)
    return expression
