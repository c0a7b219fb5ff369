"""The flat state format rebuilds exactly what the library's own round trip does, and the workflow goes on alike.

Property test: every process shape we run (the shipped models, the test fixtures, and tests/fixtures/state/
shapes.bpmn with subprocesses, a call activity, multi-instance, loops, timers and an escaping message) is
driven by seeded random walks (user decisions with random data, clock jumps that fire timers, the runtime's
history pruning). At every wait, `load_state(dump_state(wf))` must equal the library's `from_dict(to_dict(wf))`
in `to_dict` form and in everything `to_dict` leaves out (task order, event registrations, subprocess wiring);
then both copies are driven on by the same walk and must stay equal.
"""

import json
import random
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import SpiffWorkflow.task as spiff_task
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.workflow.history import prune_history
from engine.workflow.script_engine import RestrictedScriptEngine
from engine.workflow.serializer import REGISTRY, dump_state, load_state
from engine.workflow.specs import parse_process
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START

TIMESHEET_START = {**JOB_START, "registration_ids": [101, 102], "period_start": "2026-11-01",
                   "period_end": "2026-11-30"}
SHAPES = {  # file -> start data
    "bpmn/job_approval.bpmn": JOB_START,
    "bpmn/timesheet_approval.bpmn": TIMESHEET_START,
    "tests/fixtures/bpmn/camunda_style_review.bpmn": {"amount": 120, "submitter": "eli"},
    "tests/fixtures/bpmn/computed_wait.bpmn": {"wait": "PT1H"},
    "tests/fixtures/bpmn/endless_loop.bpmn": {"n": 0},
    "tests/fixtures/bpmn/hostile_data.bpmn": {"build": "big"},
    "tests/fixtures/bpmn/zero_cycle_reminder.bpmn": {},
    "tests/fixtures/bpmn/zero_wait.bpmn": {},
    "tests/fixtures/state/shapes.bpmn": {"items": ["a", "b", "c"], "done": False},
}
SEEDS = range(6)
WALK = 14  # actions per walk
STEP_CAP = 150  # engine steps per advance (endless_loop): the runtime's step budget, smaller


class Stopped(Exception):
    """The walk ends here: the model failed or looped (its state is still compared)."""


class Engine(RestrictedScriptEngine):
    """The restricted engine on a movable clock, with service tasks that answer like a handler that did its
    writes, and the runtime's timer floor (a zero cycle is refused instead of firing for ever)."""

    min_timer_seconds = 60

    def __init__(self, now: datetime):
        self.now = now
        super().__init__(clock=lambda: self.now)

    def call_service(self, task, operation_name: str, operation_params: dict, **_kwargs) -> dict:
        return {"last_operation": operation_name}


@pytest.fixture
def deterministic(monkeypatch):
    """New task ids and state-change times from counters, so two copies of a workflow driven alike stay alike.
    `reset(branch)` restarts both; each branch's ids are its own, so they never collide with a tree's ids."""
    def reset(branch: int = 0) -> None:
        ids, ticks = count((branch << 64) + 1), count(1)
        monkeypatch.setattr(spiff_task, "uuid4", lambda: spiff_task.UUID(int=next(ids)))
        monkeypatch.setattr(spiff_task, "time", type("Time", (), {"time": staticmethod(lambda: 2e9 + next(ticks))}))

    reset()
    return reset


def value(rng: random.Random):
    """Task data of the kinds scripts and forms produce: scalars, unicode, nested lists and dicts."""
    return rng.choice([0, -7, 2.5, True, None, "", "ü ✓ \"q\"", [1, [2, {"k": [3]}]], {"a": {"b": [None, 1.25]}}])


def form_values(task, rng: random.Random) -> dict:
    values = {}
    for field in task.task_spec.extensions.get("form", []):
        kind = field["type"]
        if kind == "enum":
            values[field["id"]] = rng.choice([o["id"] for o in field["options"]])
        elif kind == "boolean":
            values[field["id"]] = rng.random() < 0.5
        elif kind == "long":
            values[field["id"]] = rng.randint(0, 500)
        else:
            values[field["id"]] = rng.choice(["", "ok", "which rooms?", "ü"])
    values.update(done=rng.random() < 0.4, verdict=rng.choice(["yes", "no"]))
    if rng.random() < 0.5:
        values[f"extra_{rng.randint(0, 3)}"] = value(rng)
    return values


def run_steps(workflow: BpmnWorkflow) -> None:
    steps = count()

    def guard(_task) -> None:
        if next(steps) > STEP_CAP:
            raise Stopped("step cap")

    workflow.do_engine_steps(will_complete_task=guard)
    prune_history(workflow)  # as the runtime does before every save


def act(workflow: BpmnWorkflow, rng: random.Random) -> bool:
    """One random action at a wait: decide a ready user task, or move the clock and fire what is due.
    False when there is nothing left to do."""
    if workflow.is_completed():
        return False
    ready = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if isinstance(t.task_spec, UserTask)]
    try:
        if ready and rng.random() < 0.7:
            task = rng.choice(ready)
            task.data.update(form_values(task, rng))
            task.run()
        else:
            workflow.script_engine.now += timedelta(hours=rng.choice([1, 7, 25, 49, 100]))
            workflow.refresh_timers()
        run_steps(workflow)
    except (SpiffWorkflowException, Stopped):
        return False
    return True


def fingerprint(workflow: BpmnWorkflow) -> str:
    """The library's `to_dict` of the state, plus what it leaves out, order-sensitive."""
    workflows = [workflow, *workflow.subprocesses.values()]
    extra = {
        "task_order": [[str(t) for t in w.tasks] for w in workflows],
        "tasks": [[str(t.id), type(t).__name__, t.thread_id, id(t.task_spec), sorted(vars(t)), list(t.data)]
                  for w in workflows for t in w.tasks.values()],
        "events": [str(t) for t in workflow.event_manager.tasks],
        "subprocesses": [[str(k), str(s.parent_task_id), s.spec.name, s.depth, s.top_workflow is workflow,
                          s.completed_event.n_subscribers(), list(s.data)] for k, s in workflow.subprocesses.items()],
        "top": [type(workflow.script_engine).__name__, list(workflow.data), workflow.task_tree.id.hex,
                workflow.last_task and workflow.last_task.id.hex],
    }
    return json.dumps([REGISTRY.convert(workflow), extra], sort_keys=False, default=repr)


def library_round_trip(workflow: BpmnWorkflow, process) -> BpmnWorkflow:
    """The library's from_dict(to_dict(wf)) through JSON: what the state-1 format stored and read."""
    return load_state(json.dumps(REGISTRY.convert(workflow)), process.spec, process.subprocess_specs)


def flat_round_trip(workflow: BpmnWorkflow, process) -> BpmnWorkflow:
    return load_state(dump_state(workflow), process.spec, process.subprocess_specs)


def start(process, data: dict) -> BpmnWorkflow:
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs,
                            script_engine=Engine(datetime(2026, 11, 24, 9, tzinfo=UTC)))
    for task in [workflow.task_tree, *workflow.task_tree.children]:
        task.data.update(data)
    return workflow


BRANCHES = count(1)


def continue_alike(original: BpmnWorkflow, process, seed: int, deterministic) -> None:
    """Both round trips, driven on by the same walk, stay equal after every action."""
    copies = []
    for round_trip in (library_round_trip, flat_round_trip):
        copy = round_trip(original, process)
        copy.script_engine = Engine(original.script_engine.now)
        copies.append(copy)
    walks, branch = [], next(BRANCHES)
    for copy in copies:
        deterministic(branch)
        rng, prints = random.Random(seed), []
        for _ in range(WALK):
            going = act(copy, rng)
            prints.append(fingerprint(copy))
            if not going:
                break
        walks.append(prints)
    assert walks[0] == walks[1]


@pytest.mark.parametrize("path", sorted(SHAPES))
def test_flat_round_trip_equals_the_librarys_and_the_workflow_goes_on_alike(path, deterministic):
    process = parse_process((ROOT / path).read_bytes(), path.rsplit("/", 1)[-1])
    waits = 0
    for seed in SEEDS:
        deterministic()
        rng = random.Random(seed)
        workflow = start(process, SHAPES[path])
        try:
            run_steps(workflow)
        except (SpiffWorkflowException, Stopped):
            pass
        for step in range(WALK):
            waits += 1
            assert fingerprint(flat_round_trip(workflow, process)) == fingerprint(library_round_trip(workflow, process))
            if step % 3 == seed % 3:
                continue_alike(workflow, process, seed * 100 + step, deterministic)
            if not act(workflow, rng):
                break
    assert waits >= len(SEEDS)


def test_a_state_without_library_types_skips_the_registry_but_one_with_them_is_restored(deterministic):
    """The escaping message is a BpmnEvent (a typename in the state); the flat load restores it as the library."""
    path = "tests/fixtures/state/shapes.bpmn"
    process = parse_process((ROOT / path).read_bytes(), "shapes.bpmn")
    workflow = start(process, SHAPES[path])
    run_steps(workflow)
    assert '"typename"' not in dump_state(workflow)
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        if task.task_spec.bpmn_id == "loop_review":
            task.data.update(done=False)  # the loop runs while `done`
            task.run()
    run_steps(workflow)
    workflow.script_engine.now += timedelta(hours=3)
    workflow.refresh_timers()
    run_steps(workflow)
    assert [e.event_definition.name for e in workflow.bpmn_events] == ["done"]
    restored = flat_round_trip(workflow, process)
    assert [type(e).__name__ for e in restored.bpmn_events] == ["BpmnEvent"]
    assert fingerprint(restored) == fingerprint(library_round_trip(workflow, process))


def test_the_flat_state_is_smaller_than_the_librarys():
    process = parse_process((ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")
    workflow = start(process, JOB_START)
    run_steps(workflow)
    assert len(dump_state(workflow)) < len(json.dumps(REGISTRY.convert(workflow))) / 2
