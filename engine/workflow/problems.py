"""Why a BPMN file cannot be deployed, in a modeller's words.

A `Problem` names the file, the element (id, name and construct, e.g. "Timer event") and says what is wrong
and what to do. This module also turns SpiffWorkflow's own exceptions into Problems, so no library wording
(or traceback) reaches a manager.
"""

import re
from dataclasses import dataclass

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

_WORDS = {
    "adHocSubProcess": "Ad-hoc sub-process", "association": "Association", "boundaryEvent": "Boundary event",
    "businessRuleTask": "Business rule task", "callActivity": "Call activity", "collaboration": "Collaboration",
    "complexGateway": "Complex gateway", "dataInputAssociation": "Data input",
    "dataObject": "Data object", "dataObjectReference": "Data object", "dataOutputAssociation": "Data output",
    "dataStore": "Data store", "dataStoreReference": "Data store",
    "endEvent": "End event", "error": "Error", "escalation": "Escalation", "eventBasedGateway": "Event-based gateway",
    "exclusiveGateway": "Exclusive gateway", "inclusiveGateway": "Inclusive gateway",
    "intermediateCatchEvent": "Intermediate event", "intermediateThrowEvent": "Intermediate throw event",
    "lane": "Lane", "laneSet": "Lane set", "manualTask": "Manual task", "message": "Message",
    "messageFlow": "Message flow", "parallelGateway": "Parallel gateway", "participant": "Pool",
    "process": "Process", "receiveTask": "Receive task", "scriptTask": "Script task", "sendTask": "Send task",
    "sequenceFlow": "Sequence flow", "serviceTask": "Service task", "signal": "Signal", "startEvent": "Start event",
    "subProcess": "Sub-process", "task": "Task", "textAnnotation": "Text annotation", "transaction": "Transaction",
    "userTask": "User task",
}
_EVENT_KINDS = {
    "timerEventDefinition": "Timer", "messageEventDefinition": "Message", "signalEventDefinition": "Signal",
    "errorEventDefinition": "Error", "escalationEventDefinition": "Escalation",
    "conditionalEventDefinition": "Conditional", "compensateEventDefinition": "Compensation",
    "cancelEventDefinition": "Cancel", "terminateEventDefinition": "Terminate", "linkEventDefinition": "Link",
}
_EVENTS = {"startEvent": "start event", "endEvent": "end event", "boundaryEvent": "boundary event",
           "intermediateCatchEvent": "event", "intermediateThrowEvent": "throw event"}


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be deployed; element_id None: the file as a whole."""

    filename: str
    element_id: str | None
    element_name: str | None
    message: str
    construct: str | None = None   # "Timer event", "Business rule task", "Message" …
    line: int | None = None        # the line of the file, when known (XML and schema errors)

    def __str__(self) -> str:
        where = ""
        if self.element_id is not None:
            name = f" ({self.element_name})" if self.element_name else ""
            where = f"{self.construct or 'Element'} {self.element_id!r}{name}: "
        elif self.construct:
            where = f"{self.construct}: "
        line = f"line {self.line}: " if self.line else ""
        # One line, whatever the uploaded file put into ids, names or expressions.
        return re.sub(r"\s*[\r\n]+\s*", " ", f"{self.filename}: {line}{where}{self.message}")


def local_name(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def construct_of(element: etree._Element) -> str:
    """The element's kind in a modeller's words: 'User task', 'Timer event', 'Message start event' …"""
    kind = local_name(element.tag)
    if kind in _EVENTS:
        for child in element:
            if local_name(child.tag) in _EVENT_KINDS:
                return f"{_EVENT_KINDS[local_name(child.tag)]} {_EVENTS[kind]}"
    if kind in _WORDS:
        return _WORDS[kind]
    if kind in _EVENT_KINDS:  # the definition itself: name the event that holds it
        parent = element.getparent()
        return construct_of(parent) if parent is not None else f"{_EVENT_KINDS[kind]} event"
    return re.sub(r"(?<!^)(?=[A-Z])", " ", kind).capitalize() or "Element"


def owner_with_id(element: etree._Element | None) -> etree._Element | None:
    """The diagram element a problem is about: the element itself or its nearest ancestor that a modeller sees
    (a task, event, flow …, not a timer definition or an expression); failing that, the nearest with an id."""
    fallback = None
    while element is not None:
        if element.get("id") is not None:
            if local_name(element.tag) in _WORDS and element.tag.startswith(f"{{{BPMN_NS}}}"):
                return element
            fallback = fallback if fallback is not None else element
        element = element.getparent()
    return fallback


def problem_at(filename: str, element: etree._Element | None, message: str, line: int | None = None) -> Problem:
    """A Problem about an XML element (or the nearest ancestor with an id), its name and kind filled in."""
    owner = owner_with_id(element)
    if owner is None or owner.getparent() is None:  # no element, or the root: the file as a whole
        return Problem(filename, None, None, message, line=line)
    return Problem(filename, owner.get("id"), owner.get("name") or None, message, construct_of(owner), line)


def find_element(root: etree._Element, element_id: str | None) -> etree._Element | None:
    if not element_id:
        return None
    for element in root.iter():
        if element.get("id") == element_id:
            return element
    return None


def problem_for(filename: str, root: etree._Element, element_id: str | None, message: str) -> Problem:
    """A Problem about the element with this id (the file as a whole if there is none)."""
    element = find_element(root, element_id)
    if element is None:
        return Problem(filename, element_id, None, message)
    return problem_at(filename, element, message)


def _library_words(message: str, element: etree._Element | None) -> str:
    """SpiffWorkflow's validation message as a modeller would say it, with what to do."""
    words = construct_of(element).lower() if element is not None else "element"
    if message.startswith("There is no support implemented for this task type"):
        return f"Signoff cannot run a {words}: replace it with a user, service or script task, a gateway or an event"
    if message.startswith("Multiple outgoing flows are not supported"):
        return (f"this {words} has several outgoing flows, which Signoff runs only from gateways: add a "
                "parallel gateway after it (to follow every flow) or an exclusive one (to choose one)")
    if message.startswith("Unknown Time Specification"):
        return "the timer has no time set: choose a duration (e.g. PT48H), a date or a cycle"
    found = re.match(r"Cannot resolve data(Input|Output)Association", message)
    if found:
        direction = "reads from" if found.group(1) == "Input" else "writes to"
        return (f"the {words} {direction} something that is not a data object of this process: connect the "
                "association to a data object in the same pool, or delete it")
    found = re.match(r"Data Store with name (.*) has no implementation", message)
    if found:
        return (f"Signoff has no data store called {found.group(1).strip()!r}: delete the data store and keep the "
                "data in process variables")
    found = re.match(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)", message)
    if found:
        return (f"the {words} has {found.group(1)} start events inside: draw exactly one start event in it "
                "(a collapsed sub-process must be expanded and modelled)")
    if message.startswith("Non-default exclusive outgoing sequence flow without condition"):
        return ("this flow leaves an exclusive gateway without a condition and is not the gateway's default flow: "
                "give it a condition, or make it the default flow")
    found = re.match(r"Expected an? (\w+) node", message)
    if found:
        return (f"the event refers to a {found.group(1).lower()} that is not defined in this file: pick an "
                f"existing {found.group(1).lower()} or define one")
    return f"SpiffWorkflow could not read this element: {message.rstrip('. ')}"


def from_validation(filename: str, root: etree._Element, err: Exception) -> Problem:
    """A SpiffWorkflow ValidationException (it carries the element's id, name, tag and line) as a Problem."""
    message = str(err).split("\n")[0].strip()
    element = find_element(root, getattr(err, "id", None) or None)
    words = _library_words(message, element)
    if element is not None:
        return problem_at(filename, element, words)
    line = getattr(err, "line_number", None)
    return Problem(filename, None, None, words, line=line if isinstance(line, int) and line > 0 else None)


def from_unexpected(filename: str, root: etree._Element | None, err: Exception,
                    element_id: str | None = None) -> Problem:
    """Any other library exception: never a traceback, the element named if known."""
    detail = str(err).split("\n")[0].strip() or type(err).__name__
    message = f"SpiffWorkflow could not read this element: {detail}"
    if root is None:
        return Problem(filename, element_id, None, message)
    return problem_for(filename, root, element_id, message)


def schema_problems(filename: str, root: etree._Element, schema: etree.XMLSchema) -> list[Problem]:
    """Every BPMN 2.0 XML schema error, with its line and the element on that line."""
    if schema.validate(root):
        return []
    by_line: dict[int, etree._Element] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.sourceline is not None and element.get("id") is not None:
            by_line.setdefault(element.sourceline, element)
    lines: dict[str, list[int]] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("id") is not None:
            lines.setdefault(element.get("id"), []).append(element.sourceline)
    problems = []
    for error in schema.error_log:
        twice = re.search(r"'([^']*)' is not a valid value of the atomic type 'xs:ID'", error.message)
        if twice and len(lines.get(twice.group(1), [])) > 1:
            where = ", ".join(str(line) for line in lines[twice.group(1)])
            problems.append(Problem(filename, twice.group(1), None, f"the id is used by {len(lines[twice.group(1)])} "
                                    f"elements (lines {where}): give each element its own id", line=error.line))
            continue
        text = _schema_words(re.sub(r"\{" + re.escape(BPMN_NS) + r"\}", "bpmn:", error.message).rstrip(". "))
        element = by_line.get(error.line)
        if element is None:
            message = f"not valid BPMN 2.0 (the XML schema): {text}; fix it in the modeller or the XML"
            problems.append(Problem(filename, None, None, message, line=error.line))
        else:
            text = re.sub(r"^Element '[^']*'(, attribute '([^']*)')?: ",
                          lambda m: f"attribute {m.group(2)!r}: " if m.group(2) else "", text)
            message = f"not valid BPMN 2.0 (the XML schema): {text}; fix it in the modeller or the XML"
            problems.append(problem_at(filename, element, message, line=error.line))
    return problems


def _schema_words(text: str) -> str:
    """The commonest schema errors in plainer words (the rest as lxml says them)."""
    text = re.sub(r"'([^']*)' is not a valid value of the atomic type 'xs:ID'",
                  r"'\1' is not a usable id (used twice, or not starting with a letter or _)", text)
    text = re.sub(r"'' is not a valid value of the atomic type 'xs:QName'", "it is empty but must name an element",
                  text)
    return text.replace("The attribute", "the attribute").replace("This element is not expected",
                                                                   "this element is not allowed here")
