"""Checks of a BPMN file's XML that run before SpiffWorkflow reads it.

They catch what the library reports badly, or only one at a time: which processes run, every unsupported
construct, a message without a name, data stores, tasks with several outgoing flows.
"""

from lxml import etree

from engine.workflow.problems import BPMN_NS, Problem, construct_of, local_name, problem_at

_B = f"{{{BPMN_NS}}}"
_FLOW_NODE_SUFFIXES = ("Task", "Event", "Gateway")
_FLOW_NODES = {"task", "subProcess", "callActivity", "transaction", "adHocSubProcess"}
# Signoff's one place for a data store: process variables (the library has no data store implementations)
_DATA_STORE_WORDS = ("Signoff keeps no data stores: delete the data store (and its associations) and keep the "
                     "data in process variables")


def executable_processes(root: etree._Element) -> list[etree._Element]:
    return [p for p in root.iterfind(f"{_B}process") if p.get("isExecutable") == "true"]


def processes_in_scope(root: etree._Element) -> list[etree._Element]:
    """The executable processes and every process they call (call activities), in document order."""
    processes = {p.get("id"): p for p in root.iterfind(f"{_B}process")}
    wanted = {p.get("id") for p in executable_processes(root)}
    todo = list(wanted)
    while todo:
        process = processes.get(todo.pop())
        for call in process.iter(f"{_B}callActivity") if process is not None else ():
            called = call.get("calledElement")
            if called in processes and called not in wanted:
                wanted.add(called)
                todo.append(called)
    return [p for p in processes.values() if p.get("id") in wanted]


def is_flow_node(element: etree._Element) -> bool:
    kind = local_name(element.tag)
    return element.tag.startswith(_B) and (kind in _FLOW_NODES or kind.endswith(_FLOW_NODE_SUFFIXES)) \
        and not kind.endswith("EventDefinition")


def precheck(root: etree._Element, filename: str, scope: list[etree._Element], parser) -> list[Problem]:
    """Every problem found in the XML of the processes in `scope`; `parser` is the SignoffParser to be used."""
    problems: list[Problem] = []
    for process in scope:
        outgoing: dict[str, int] = {}
        for flow in process.iter(f"{_B}sequenceFlow"):
            outgoing[flow.get("sourceRef")] = outgoing.get(flow.get("sourceRef"), 0) + 1
        for element in process.iter():
            if not isinstance(element.tag, str) or not is_flow_node(element):
                continue
            problems.extend(_node_problems(element, filename, parser, outgoing.get(element.get("id"), 0)))
        problems.extend(problem_at(filename, ref, _DATA_STORE_WORDS)
                        for ref in process.iter(f"{_B}dataStoreReference"))
    problems.extend(_unresolved_refs(root, filename, scope))
    problems.extend(_unnamed_messages(root, filename, scope))
    return problems


_REFS = {"messageRef": "message", "signalRef": "signal", "errorRef": "error", "escalationRef": "escalation"}


def _unresolved_refs(root: etree._Element, filename: str, scope: list[etree._Element]) -> list[Problem]:
    """Events and tasks that refer to a message, signal, error or escalation this file does not define.

    A prefixed reference (`semantic:Message_1`, valid BPMN that the library does not resolve) is rewritten to the
    plain id in the tree handed to the library.
    """
    problems = []
    for attribute, kind in _REFS.items():
        defined = {element.get("id") for element in root.iterfind(f"{_B}{kind}")}
        for process in scope:
            for element in process.iter():
                ref = element.get(attribute) if isinstance(element.tag, str) else None
                if ref is None or ref in defined:
                    continue
                plain = ref.split(":", 1)[-1]
                if plain in defined:
                    element.set(attribute, plain)
                else:
                    problems.append(problem_at(filename, element, f"it refers to {kind} {ref!r}, which this file does "
                                                                  f"not define: pick a defined {kind} in its "
                                                                  f"properties, or define one"))
    return problems


def _node_problems(element: etree._Element, filename: str, parser, outgoing: int) -> list[Problem]:
    node_parser, spec_class = parser._get_parser_class(element.tag)
    if node_parser is None or spec_class is None:
        return [_unsupported(element, filename)]
    try:
        many = node_parser.handles_multiple_outgoing(None)
    except Exception:  # noqa: BLE001 - a parser that needs its instance decides for itself later
        many = True
    if outgoing > 1 and not many:
        words = construct_of(element).lower()
        return [problem_at(filename, element, f"this {words} has several outgoing flows, which Signoff runs only "
                                              "from gateways: add a parallel gateway after it (to follow every "
                                              "flow) or an exclusive one (to choose one)")]
    return []


_UNSUPPORTED_ADVICE = {
    "businessRuleTask": "Signoff has no decision tables: use an exclusive gateway with conditions, "
                        "or a script task that sets the result",
    "complexGateway": "use an exclusive, inclusive or parallel gateway",
}


def unsupported_words(element: etree._Element | None) -> str:
    """Why an element of a type the runtime has no support for is refused, and what to use instead."""
    kind = local_name(element.tag) if element is not None else ""
    words = construct_of(element).lower() if element is not None else "element of this type"
    advice = _UNSUPPORTED_ADVICE.get(kind, "replace it with a user, service or script task, a gateway or an event")
    return f"Signoff cannot run a {words}: {advice}"


def _unsupported(element: etree._Element, filename: str) -> Problem:
    return problem_at(filename, element, unsupported_words(element))


def _unnamed_messages(root: etree._Element, filename: str, scope: list[etree._Element]) -> list[Problem]:
    """A `<message>` without a name that the processes use (SpiffWorkflow would fail with a TypeError)."""
    used = {definition.get("messageRef") for process in scope
            for definition in process.iter(f"{_B}messageEventDefinition")}
    used |= {task.get("messageRef") for process in scope
             for task in process.iter(f"{_B}receiveTask", f"{_B}sendTask")}
    return [problem_at(filename, message, "the message has no name: give it a name (events wait for messages "
                                          "by name)")
            for message in root.iterfind(f"{_B}message") if message.get("id") in used and not message.get("name")]


def drop_data_stores(root: etree._Element) -> None:
    """Remove the file's data store definitions, which the library refuses wherever they are; a process that
    uses one is refused by `precheck`, so only unused ones (in pools that do not run) are dropped."""
    for store in list(root.iterfind(f"{_B}dataStore")):
        store.getparent().remove(store)
