"""The Celery tasks survive anything one round raises and record the sweep (called directly, no broker)."""

import pytest

from engine.services.status import get_status
from tasks import email, workflow


class Escaped(BaseException):
    """What a script could raise if it reached BaseException."""


def _explode(*_args):
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
