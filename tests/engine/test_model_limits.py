"""A model cannot stop the engine: timer floor, step budget, data limits, one bad instance stays alone."""

from dataclasses import replace

import pytest

from engine.errors import DeployError, InvalidInput
from engine.mail.transport import DevMailbox
from engine.services.instances import complete_task, start_instance
from engine.services.outbox import deliver_due_messages
from engine.services.timers import fire_due_timers
from engine.workflow import runtime
from engine.workflow.script_engine import RestrictedEnvironment
from tests.engine.helpers import JOB_START, events, instance, only_open_task, timers

FIXTURES = "tests/fixtures/bpmn"
EMAILS = {"customer_email": "dana@millhouse.example", "manager_email": "sam@signoff.example"}


def assert_error(ctx, iid: int, element: str, *words: str) -> None:
    row = instance(ctx, iid)
    assert row.status == "error" and row.error_element == element, (row.status, row.error_element)
    assert all(word in row.error_message for word in words), row.error_message
    assert [e.element_id for e in events(ctx, iid, "error")] == [element]


@pytest.mark.parametrize(("name", "element", "value"), [
    ("zero_cycle_reminder", "reminder_due", "R/PT0S"), ("zero_wait", "wait_a_moment", "PT0S")])
def test_a_literal_timer_below_the_floor_is_refused_at_deploy(deploy, name, element, value):
    with pytest.raises(DeployError) as refused:
        deploy(f"{FIXTURES}/{name}.bpmn")
    message = str(refused.value)
    assert f"{name}.bpmn" in message and element in message and value in message and "60 seconds" in message


def test_a_computed_duration_below_the_floor_puts_the_instance_in_error(ctx, deploy):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    fine = start_instance(ctx, "computed_wait", {"wait": "PT1H"})
    tiny = start_instance(ctx, "computed_wait", {"wait": "PT0.000001S"})
    assert instance(ctx, fine).status == "running" and len(timers(ctx, fine)) == 1
    assert_error(ctx, tiny, "wait_for_it", "PT0.000001S", "60 seconds")
    assert timers(ctx, tiny) == []


def test_a_microsecond_reminder_interval_on_the_shipped_process_errors_instead_of_hanging(ctx, deploy, clock):
    deploy("bpmn/job_approval.bpmn")
    tiny = start_instance(ctx, "job_approval", {**JOB_START, **EMAILS, "reminder_interval": "PT0.000001S"})
    assert_error(ctx, tiny, "reminder_due", "cycle interval", "R/PT0.000001S")
    assert fire_due_timers(ctx, clock.advance(days=3)) == []


def test_a_cycle_long_overdue_skips_ahead_in_one_step(ctx, deploy, clock):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", {**JOB_START, "approval_period": "P5000D",
                                               "reminder_interval": "PT1M"})
    assert fire_due_timers(ctx, clock.advance(days=4000)) == [iid]  # ~5.8 million missed cycles, no loop
    assert [e.element_id for e in events(ctx, iid, "timer_fired")] == ["reminder_due"]


def test_an_endless_gateway_loop_stops_at_the_step_budget(ctx, deploy):
    ctx.settings = replace(ctx.settings, step_budget=60)
    deploy(f"{FIXTURES}/endless_loop.bpmn")
    iid = start_instance(ctx, "endless_loop", {"n": 0})
    row = instance(ctx, iid)
    assert row.status == "error" and row.error_element in ("count_up", "done_yet")
    assert row.error_message.startswith("ran 60 steps without waiting at ")


def test_an_endless_loop_errors_with_the_default_settings_instead_of_stalling(ctx, deploy):
    deploy(f"{FIXTURES}/endless_loop.bpmn")
    iid = start_instance(ctx, "endless_loop", {"n": 0})  # SpiffWorkflow alone stops seeing tasks at depth 1000
    row = instance(ctx, iid)
    assert row.status == "error" and row.error_message.startswith("ran ")
    assert "steps without waiting at " in row.error_message


def test_the_default_budget_holds_the_shipped_process(ctx, deploy, clock):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", {**JOB_START, **EMAILS})
    task = only_open_task(ctx, iid, "review_job")
    complete_task(ctx, task.id, {"decision": "approve", "comment": "ok"})
    assert instance(ctx, iid).status == "completed"


@pytest.mark.parametrize(("build", "variable", "words"), [
    ("deep", "nested", ("nested deeper than 20",)), ("big", "blob_3", ("larger than 262144 bytes",))])
def test_hostile_data_errors_its_instance_and_the_sweep_goes_on(ctx, deploy, clock, build, variable, words):
    deploy(f"{FIXTURES}/hostile_data.bpmn")
    deploy("bpmn/job_approval.bpmn")
    hostile = start_instance(ctx, "hostile_data", {"build": build})  # due in an hour: first in the sweep
    good = start_instance(ctx, "job_approval", {**JOB_START, **EMAILS})
    deliver_due_messages(ctx, DevMailbox())
    advanced = fire_due_timers(ctx, clock.advance(days=3))
    assert advanced == [hostile, good]
    assert_error(ctx, hostile, "build_data", repr(variable), *words)
    assert [e.element_id for e in events(ctx, good, "timer_fired")] == ["reminder_due"]
    deliveries = deliver_due_messages(ctx, DevMailbox())
    assert [d.status for d in deliveries] == ["sent"]


def test_start_data_over_the_limits_is_refused_naming_the_variable(ctx, deploy):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(InvalidInput, match="'deep' is nested deeper than 20"):
        start_instance(ctx, "computed_wait", {"wait": "PT1H", "deep": deep})
    with pytest.raises(InvalidInput, match="'notes' makes the instance data larger"):
        start_instance(ctx, "computed_wait", {"wait": "PT1H", "notes": "x" * 300_000})


def test_task_data_over_the_limit_is_refused_and_nothing_changes(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", {**JOB_START, **EMAILS})
    task = only_open_task(ctx, iid, "review_job")
    with pytest.raises(InvalidInput, match="'comment' makes the instance data larger"):
        complete_task(ctx, task.id, {"decision": "approve", "comment": "x" * 300_000})
    assert only_open_task(ctx, iid, "review_job").id == task.id and instance(ctx, iid).status == "running"


def test_a_script_raising_a_base_exception_is_an_error_of_its_instance(ctx, deploy, clock, monkeypatch):
    deploy(f"{FIXTURES}/hostile_data.bpmn")
    iid = start_instance(ctx, "hostile_data", {"build": "big"})

    def escape(*_args, **_kwargs):
        raise SystemExit("a script found BaseException")

    monkeypatch.setattr(RestrictedEnvironment, "execute", escape)
    assert fire_due_timers(ctx, clock.advance(hours=2)) == [iid]
    assert_error(ctx, iid, "build_data", "SystemExit", "a script found BaseException")


def test_a_state_that_cannot_be_loaded_errors_its_instance_and_the_sweep_goes_on(ctx, deploy, clock, monkeypatch):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    broken = start_instance(ctx, "computed_wait", {"wait": "PT1H"})
    fine = start_instance(ctx, "computed_wait", {"wait": "PT2H"})
    real_load = runtime.load

    def load(session, row, *args):
        if row.id == broken:
            raise RecursionError("maximum recursion depth exceeded")
        return real_load(session, row, *args)

    monkeypatch.setattr(runtime, "load", load)
    assert fire_due_timers(ctx, clock.advance(hours=3)) == [broken, fine]
    assert instance(ctx, broken).status == "error" and "RecursionError" in instance(ctx, broken).error_message
    assert instance(ctx, fine).status == "completed"
    assert fire_due_timers(ctx, clock.advance(hours=1)) == []  # errored instances are not re-swept
