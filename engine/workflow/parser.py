"""Our BPMN parser: vanilla BPMN plus the extensions managers' modellers write.

Reads Camunda `formData` on user tasks, Camunda external-task topics or SpiffWorkflow
`serviceTaskOperator` on service tasks, and makes every timer read the runtime's clock.
"""

from functools import cache

from SpiffWorkflow.bpmn.parser.BpmnParser import DEFAULT_NSMAP, BpmnParser, BpmnValidator, full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    IntermediateCatchEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    StartEvent,
    UserTask,
)
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask as BpmnServiceTask

from engine.workflow.separation import separation_rules
from engine.workflow.timers import clocked

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {**DEFAULT_NSMAP, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}
FIELD_CONSTRAINTS = ("required", "min", "max", "minlength", "maxlength")
FIELD_PROPERTIES = ("required_when",)  # camunda:property on a form field; engine.workflow.forms reads it


class ServiceTask(BpmnServiceTask):
    """A service task naming a registered operation; parameters are ('literal'|'expression', text)."""

    def __init__(self, wf_spec, bpmn_id, operation_name: str = "", operation_params=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.operation_name = operation_name
        self.operation_params = operation_params or {}

    def _execute(self, task) -> bool:
        engine = task.workflow.script_engine
        params = {
            name: engine.evaluate(task, text) if kind == "expression" else text
            for name, (kind, text) in self.operation_params.items()
        }
        result = engine.call_service(task, operation_name=self.operation_name, operation_params=params)
        if result:
            task.data.update(result)
        return True


class _ExtensionParser(TaskParser):
    def parse_extensions(self, node=None) -> dict:
        return {}


class UserTaskParser(_ExtensionParser):
    """A user task and its form: a list of field dicts kept in `task_spec.extensions['form']`."""

    def parse_extensions(self, node=None) -> dict:
        return {"form": [self._field(f) for f in self.xpath(".//camunda:formData/camunda:formField")],
                "separation": separation_rules(self.xpath("./bpmn:extensionElements/camunda:properties/"
                                                          "camunda:property"), self.raise_validation_exception)}

    @staticmethod
    def _field(node) -> dict:
        field = {
            "id": node.get("id"),
            "label": node.get("label") or node.get("id"),
            "type": node.get("type") or "string",
            "default": node.get("defaultValue"),
            "options": [
                {"id": value.get("id"), "name": value.get("name") or value.get("id")}
                for value in node.findall(f"{{{CAMUNDA_NS}}}value")
            ],
        }
        for constraint in node.iterfind(f".//{{{CAMUNDA_NS}}}constraint"):
            name = constraint.get("name")
            if name in FIELD_CONSTRAINTS:
                field[name] = constraint.get("config") if name != "required" else True
        for prop in node.iterfind(f"{{{CAMUNDA_NS}}}properties/{{{CAMUNDA_NS}}}property"):
            if prop.get("id") in FIELD_PROPERTIES:
                field[prop.get("id")] = prop.get("value") or ""
        return field


class ServiceTaskParser(_ExtensionParser):
    """Camunda `camunda:topic` + `inputParameter`, or SpiffWorkflow's `serviceTaskOperator`."""

    def create_task(self):
        name, params = self._camunda_operation() or self._spiff_operation() or ("", {})
        return self.spec_class(self.spec, self.bpmn_id, operation_name=name, operation_params=params,
                               **self.bpmn_attributes)

    def _camunda_operation(self):
        topic = self.node.get(f"{{{CAMUNDA_NS}}}topic")
        if topic is None:
            return None
        params = {}
        for param in self.xpath(".//camunda:inputOutput/camunda:inputParameter"):
            text = (param.text or "").strip()
            if text.startswith("${") and text.endswith("}"):
                params[param.get("name")] = ("expression", text[2:-1].strip())
            else:
                params[param.get("name")] = ("literal", text)
        return topic, params

    def _spiff_operation(self):
        operators = self.xpath(".//spiffworkflow:serviceTaskOperator")
        if not operators:
            return None
        params = {
            p.get("id"): ("expression", p.get("value") or "None")
            for p in operators[0].iterfind(f".//{{{SPIFF_NS}}}parameter")
        }
        return operators[0].get("id"), params


class DocumentOrderGatewayParser(ConditionalGatewayParser):
    """Try a gateway's conditions in document order, as Camunda does.

    The library orders outgoing flows by the targets' y position in the diagram, so moving a shape in
    the modeller could change which of two true conditions wins.
    """

    def get_position(self, node=None):
        if node is None or node is self.node:
            return super().get_position(node)
        targets = [flow.get("targetRef") for flow in self.process_parser.get_outgoing_sequence_flows(self.bpmn_id)]
        return {"x": 0.0, "y": float(targets.index(node.get("id")))}


class _ClockedTimers:
    def parse_timer_event(self, event):
        return clocked(super().parse_timer_event(event))


class ClockedStartEventParser(_ClockedTimers, StartEventParser):
    pass


class ClockedCatchEventParser(_ClockedTimers, IntermediateCatchEventParser):
    pass


class ClockedBoundaryEventParser(_ClockedTimers, BoundaryEventParser):
    pass


class SignoffParser(BpmnParser):
    """BpmnParser with Signoff's user tasks, service tasks and clock-aware timers."""

    OVERRIDE_PARSER_CLASSES = {
        full_tag("userTask"): (UserTaskParser, UserTask),
        full_tag("serviceTask"): (ServiceTaskParser, ServiceTask),
        full_tag("exclusiveGateway"): (DocumentOrderGatewayParser, ExclusiveGateway),
        full_tag("inclusiveGateway"): (DocumentOrderGatewayParser, InclusiveGateway),
        full_tag("startEvent"): (ClockedStartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (ClockedCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (ClockedBoundaryEventParser, BoundaryEvent),
    }

    def __init__(self):
        # The schema is checked before (engine.workflow.specs, every error with its line and element).
        super().__init__(namespaces=NSMAP, validator=None)


@cache
def schema_validator() -> BpmnValidator:
    """The BPMN 2.0 XML schema check (the library's bundled XSD), loaded once per process."""
    return BpmnValidator()
