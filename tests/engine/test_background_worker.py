"""The embedded default: a thread in the process sweeps timers and delivers mail, no Redis needed."""

import time

import pytest

from engine.background import BackgroundWorker
from engine.config import Settings
from engine.mail.transport import DevMailbox
from engine.services.context import SYSTEM, open_context
from engine.services.deployments import deploy_file
from engine.services.instances import start_instance
from engine.services.outbox import list_mail
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START, instance


@pytest.fixture
def real_clock_ctx(database_url):
    ctx = open_context(Settings(database_url=database_url, min_timer_seconds=1))  # seconds-long periods
    deploy_file(ctx, SYSTEM, (ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")
    yield ctx
    ctx.db.dispose()


def _all_done(ctx, instance_id: int) -> bool:
    mails = list_mail(ctx)
    return instance(ctx, instance_id).status == "completed" and all(m["status"] == "sent" for m in mails)


def test_background_thread_reminds_expires_and_mails_by_itself(real_clock_ctx):
    ctx = real_clock_ctx
    iid = start_instance(ctx, "job_approval", {**JOB_START, "approval_period": "PT3S", "reminder_interval": "PT2S",
                                               "customer_email": "c@example.com", "manager_email": "m@example.com"})
    worker = BackgroundWorker(ctx, DevMailbox(), interval=0.2)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _all_done(ctx, iid):
            time.sleep(0.1)
    finally:
        worker.stop()
    assert not worker.is_alive()
    assert instance(ctx, iid).case_status == "expired_auto_approved"
    mails = list(reversed(list_mail(ctx)))
    assert [m["template"] for m in mails] == [
        "approval_request_to_customer", "reminder_to_customer", "expired_auto_approved_to_manager"]
    assert [m["to"] for m in mails] == ["c@example.com", "c@example.com", "m@example.com"]
    assert all(m["status"] == "sent" and m["subject"] for m in mails)
