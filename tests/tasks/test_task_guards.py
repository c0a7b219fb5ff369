"""The Celery tasks survive anything one round raises and record the sweep (called directly, no broker)."""

import pytest

from engine.services import timers
from engine.services.instances import start_instance
from engine.services.status import get_status
from tasks import email, workflow


class Escaped(BaseException):
    """What a script could raise if it reached BaseException."""


def _explode(*_args, **_kwargs):
    raise Escaped("boom")


@pytest.mark.parametrize(("module", "task", "service", "part"), [
    (workflow, "sweep_due_timers", "fire_due_timers", "timers"),
    (email, "deliver_outbox", "deliver_due_messages", "mail")])
def test_a_task_round_that_raises_is_logged_recorded_and_returns(ctx, monkeypatch, module, task, service, part):
    monkeypatch.setattr(module, "worker_context", lambda: ctx)
    if hasattr(module, "worker_transport"):
        monkeypatch.setattr(module, "worker_transport", lambda: None)
    monkeypatch.setattr(module, service, _explode)
    assert getattr(module, task)() == {part: "Escaped: boom"}
    [line] = get_status(ctx)["workers"]
    assert line["name"].startswith("celery-") and line["error"] == f"{part}: Escaped: boom"


def test_a_sweep_finding_more_due_than_one_claim_queues_another_for_an_idle_worker(ctx, deploy, clock, monkeypatch):
    deploy("tests/fixtures/bpmn/computed_wait.bpmn")
    for _ in range(3):
        start_instance(ctx, "computed_wait", {"wait": "PT1H"})
    monkeypatch.setattr(workflow, "worker_context", lambda: ctx)
    monkeypatch.setattr(timers, "CLAIM", 2)
    queued: list[str] = []
    monkeypatch.setattr(workflow.sweep_due_timers, "delay", lambda: queued.append("sweep"))
    clock.advance(hours=2)
    assert workflow.sweep_due_timers() == {}
    assert queued == ["sweep"]  # the first claim was full: another worker may take the rest at once
    assert workflow.sweep_due_timers() == {}
    assert queued == ["sweep"]  # nothing was due any more: no follow-up
