"""Workers survive anything one round raises, record each sweep, and `signoff status` shows it."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import background
from engine.background import BackgroundWorker
from engine.cli import main
from engine.mail.transport import DevMailbox
from engine.models import WorkflowInstance
from engine.services.instances import start_instance
from engine.services.outbox import deliver_due_messages
from engine.services.status import get_status
from engine.services.sweeps import run_sweep
from tests.engine.helpers import JOB_START

FIXTURES = "tests/fixtures/bpmn"


class Escaped(BaseException):
    """What a script could raise if it reached BaseException: passes every `except Exception`."""


def test_the_background_thread_survives_base_exceptions_and_records_its_sweeps(ctx, monkeypatch):
    calls: list[str] = []
    third_round = threading.Event()

    def flaky_sweep(_ctx):
        calls.append("timers")
        if len(calls) == 1:
            raise Escaped("from a script")
        if len(calls) == 2:
            raise SystemExit("from a script too")  # passes run_sweep; the thread's loop catches it
        third_round.set()
        return []

    monkeypatch.setattr(background, "fire_due_timers", flaky_sweep)
    worker = BackgroundWorker(ctx, DevMailbox(), interval=0.01)
    worker.start()
    try:
        assert third_round.wait(timeout=30)
        assert worker.is_alive()
    finally:
        worker.stop()
    assert not worker.is_alive() and len(calls) >= 3
    [line] = get_status(ctx)["workers"]
    assert line["name"] == worker.worker and line["error"] is None and line["last_ok_at"]
    assert "timers: 0 instance(s) advanced" in line["result"]


def test_a_failed_part_is_recorded_and_the_next_part_still_runs(ctx):
    delivered = []
    result = run_sweep(ctx, "test-worker", {"timers": lambda: (_ for _ in ()).throw(Escaped("boom")),
                                            "mail": lambda: delivered.append(1) or "0 mail(s) handled"})
    assert delivered == [1] and result.errors == {"timers": "Escaped: boom"}
    [line] = get_status(ctx)["workers"]
    assert line["error"] == "timers: Escaped: boom" and line["last_ok_at"] is None


def test_signoff_status_shows_the_last_sweep_and_the_backlog(ctx, deploy, clock, monkeypatch, capsys):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    start_instance(ctx, "computed_wait", {"wait": "PT1H"})
    run_sweep(ctx, "embedded@test", {"timers": lambda: "0 instance(s) advanced"})
    run_sweep(ctx, "celery-outbox@test", {"mail": lambda: (_ for _ in ()).throw(RuntimeError("smtp down"))})
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", ctx.settings.database_url)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "processes: computed_wait v1" in out
    assert f"worker embedded@test: last sweep {clock.now.isoformat()} ok (timers: 0 instance(s) advanced)" in out
    assert "worker celery-outbox@test: last sweep" in out and "failed: mail: RuntimeError: smtp down" in out
    assert re.search(r"^due timers waiting: [01] instance\(s\)$", out, re.M)  # as of the real clock
    assert "outbox: 0 pending, 0 failed" in out


def test_signoff_timers_fire_fires_every_due_timer_not_just_one_batch(ctx, deploy, clock, monkeypatch, capsys):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    for _ in range(520):
        start_instance(ctx, "computed_wait", {"wait": "PT1H"})
    later = clock.now + timedelta(hours=2)
    assert get_status(ctx, later)["due_timers"] == 520
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", ctx.settings.database_url)
    assert main(["timers", "fire", "--now", later.isoformat()]) == 0
    assert "fired due timers of 520 instance(s)" in capsys.readouterr().out
    with ctx.uow() as uow:
        completed = uow.session.scalar(select(func.count()).where(WorkflowInstance.status == "completed"))
    assert completed == 520 and get_status(ctx, later)["due_timers"] == 0


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level("CRITICAL")  # the failures above are logged on purpose


class FirstMailExplodes:
    """A transport whose first send raises something no one planned for."""

    name = "flaky"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message) -> None:
        if not self.sent and message["To"] == "first@example.com":
            self.sent.append("exploded")
            raise Escaped("the transport broke in an unforeseen way")
        self.sent.append(message["To"])


def test_one_message_failing_unexpectedly_is_marked_failed_and_the_next_is_delivered(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    for email in ("first@example.com", "second@example.com"):
        start_instance(ctx, "job_approval", {**JOB_START, "customer_email": email, "manager_email": "m@example.com"})
    transport = FirstMailExplodes()
    deliveries = deliver_due_messages(ctx, transport)
    assert [d.status for d in deliveries] == ["failed", "sent"]
    assert "Escaped: the transport broke" in deliveries[0].error
    assert transport.sent == ["exploded", "second@example.com"]
    assert get_status(ctx)["outbox_failed"] == 1
