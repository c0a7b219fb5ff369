"""Safe loading of uploaded (untrusted) BPMN XML, and rewriting of its expressions.

Nothing in a file may make the parser read files, reach the network or expand entities.
Camunda-style timer and condition expressions become the Python SpiffWorkflow evaluates.
"""

from collections.abc import Callable
from functools import partial

from lxml import etree

from engine.workflow.expressions import (
    ExpressionError,
    translate_condition,
    translate_timer,
    validate_python_expression,
)
from engine.workflow.problems import BPMN_NS, Problem, problem_at

MAX_BPMN_BYTES = 2 * 1024 * 1024

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
    """A refused BPMN file: `.problems` says every reason (file, element, what is wrong and what to do).

    Built either from one message (`BpmnFileError(filename, message, element_id)`) or from a list of problems
    (`BpmnFileError.of(problems)`); `filename`, `element_id` and `message` are the first problem's.
    """

    def __init__(
        self, filename: str, message: str, element_id: str | None = None, problems: list[Problem] | None = None
    ) -> None:
        self.problems = problems or [Problem(filename, element_id, None, message)]
        self.filename = filename
        self.element_id = self.problems[0].element_id
        self.message = self.problems[0].message
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def of(cls, problems: list[Problem]) -> "BpmnFileError":
        first = problems[0]
        return cls(first.filename, first.message, first.element_id, problems=list(problems))


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


def process_name_in(data: bytes, process_id: str) -> str | None:
    """The name of the process `process_id` in a BPMN file, or None (no such process, no name, a bad file)."""
    try:
        root = parse_bpmn_bytes(data, "<bpmn>")
    except BpmnFileError:
        return None
    for process in root.iterfind(f"{{{BPMN_NS}}}process"):
        if process.get("id") == process_id:
            return process.get("name") or None
    return None


NO_TIME = "the timer has no time set: choose a duration (e.g. PT48H), a date or a cycle"
EMPTY_CONDITION = ("the condition is empty: write one (e.g. ${decision == 'approve'}), or delete it and make "
                   "this flow the gateway's default flow")


def normalize_expressions(root: etree._Element, within: list[etree._Element] | None = None) -> None:
    """Rewrite timer and condition expressions, in place, into Python.

    `within`: the elements (processes) whose expressions are rewritten; None: the whole file.
    On an error nothing is rewritten. Script task bodies are never touched.
    :raises BpmnFileError: with a problem for every expression that cannot be translated or is not Python.
    """
    filename = root.getroottree().docinfo.URL or "<bpmn>"
    rewrites: list[tuple[etree._Element, str]] = []
    problems: list[Problem] = []
    for scope in root if within is None else within:
        _collect_rewrites(scope, filename, rewrites, problems)
    if problems:
        raise BpmnFileError.of(problems)
    for element, expression in rewrites:
        element.text = expression


def _collect_rewrites(scope: etree._Element, filename: str, rewrites: list, problems: list[Problem]) -> None:
    for definition in scope.iter(_TIMER_DEFINITION):
        times = [child for child in definition if child.tag in _TIMER_ELEMENTS]
        if not times or all(not (child.text or "").strip() and not len(child) for child in times):
            problems.append(problem_at(filename, definition, NO_TIME))
            continue
        for element in times:
            translate = partial(translate_timer, element=_TIMER_ELEMENTS[element.tag])
            _rewrite(element, translate, filename, rewrites, problems, "timer")
    for element in scope.iter(_CONDITION):
        language = element.get("language")
        if language and language.lower() != "python":
            problems.append(problem_at(filename, element, f"the condition is written in {_language(language)}, "
                                                          f"which Signoff does not evaluate: {_WRITE_AS}"))
        elif not len(element) and not (element.text or "").strip():
            problems.append(problem_at(filename, element, EMPTY_CONDITION))
        else:
            _rewrite(element, translate_condition, filename, rewrites, problems, "condition")


_WRITE_AS = "write it in Python or as ${...}, e.g. ${decision == 'approve'}"


def _language(uri: str) -> str:
    """An expression language's URI in words: 'FEEL', 'XPath', or the URI itself."""
    for known in ("FEEL", "XPath", "JavaScript", "Groovy", "JUEL"):
        if known.lower() in uri.lower():
            return f"{known} ({uri!r})"
    return repr(uri)


def _rewrite(element: etree._Element, translate: Callable[[str], str], filename: str, rewrites: list,
             problems: list[Problem], what: str) -> None:
    """Queue the element's translated text, or record why it cannot be translated."""
    if len(element):  # child nodes would hide part of the expression from SpiffWorkflow
        problems.append(problem_at(filename, element, "an expression must be plain text, without child nodes"))
        return
    try:
        expression = translate(element.text or "")
    except ExpressionError as exc:
        problems.append(problem_at(filename, element, str(exc)))
        return
    problem = validate_python_expression(expression)
    if problem and problem.startswith("invalid Python expression"):
        text = (element.text or "").strip()
        if text.startswith("="):
            problem = (f"the {what} {text!r} is FEEL (Camunda 8), which Signoff does not evaluate: {_WRITE_AS}")
        else:
            problem = (f"the {what} {text!r} is not an expression Signoff can evaluate "
                       f"({problem.rsplit(': ', 1)[-1]}): {_WRITE_AS}")
    if problem:
        problems.append(problem_at(filename, element, problem))
    else:
        rewrites.append((element, expression))
