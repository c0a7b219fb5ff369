"""Save and load an instance's own SpiffWorkflow state, without the process spec.

The library embeds the whole spec in every serialization; we keep the spec once per process version
(parsed from its stored XML, cached in memory) and hand it back in when loading. States are written in our
flat format (state_format.py); rows saved before it (`spiff-3.2.0/state-1`, the library's `to_dict` minus the
spec) are still read, and are written back in the flat format on their next save.
"""

import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.helpers.bpmn_converter import BpmnConverter

from engine.workflow.state_format import flatten, is_flat, unflatten

# Bump (keeping a reader for the old value) whenever the stored format or the pinned SpiffWorkflow changes it.
SERIALIZER_VERSION = "spiff-3.2.0/state-2"
LEGACY_VERSIONS = ("spiff-3.2.0/state-1",)

# Only a value the registry converted (a datetime in internal data, an event) carries this key; a state without
# it anywhere has nothing for the registry to restore, so loading skips the registry's walk over the data.
_TYPENAME = '"typename"'


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """The library's workflow converter minus `spec` and `subprocess_specs` (the state-1 format)."""

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


def _make_registry() -> DefaultRegistry:
    config: dict[type, type[BpmnConverter]] = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


_SERIALIZER = BpmnWorkflowSerializer(_make_registry())
REGISTRY = _SERIALIZER.registry


def _as_is(value):
    return value


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize the instance's task tree and data (not its spec) to compact JSON in the flat format."""
    return json.dumps(flatten(workflow, REGISTRY), separators=(",", ":"))


def load_state(state: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
    """Rebuild a workflow from `dump_state` output (or a state-1 row) and the spec of its process version."""
    value = json.loads(state)
    if is_flat(value):
        restore = REGISTRY.restore if _TYPENAME in state else _as_is
        return unflatten(value, spec, subprocess_specs, restore)
    return REGISTRY.restore(value, spec=spec, subprocess_specs=subprocess_specs)
