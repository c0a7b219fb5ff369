"""Save and load an instance's own SpiffWorkflow state, without the process spec.

The library embeds the whole spec in every serialization; we keep the spec once per process version
(parsed from its stored XML, cached in memory) and hand it back in when loading.
"""

import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers import BpmnConverter

# Bump with a migration function whenever the pinned SpiffWorkflow changes its task/state format.
SERIALIZER_VERSION = "spiff-3.2.0/state-1"


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """The library's workflow converter minus `spec` and `subprocess_specs`."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, spec=None, subprocess_specs=None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_registry():
    config: dict[type, type[BpmnConverter]] = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


_SERIALIZER = BpmnWorkflowSerializer(_make_registry())


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize the instance's task tree and data (not its spec) to compact JSON."""
    return json.dumps(_SERIALIZER.to_dict(workflow), separators=(",", ":"))


def load_state(state: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
    """Rebuild a workflow from `dump_state` output and the spec of its process version."""
    return _SERIALIZER.registry.restore(json.loads(state), spec=spec, subprocess_specs=subprocess_specs)
