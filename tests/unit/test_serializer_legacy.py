"""Instances saved by the state-1 serializer keep running: read by the old reader, saved back in the flat format.

tests/fixtures/state/*.json were saved by main's code before the flat format (see its README). Each test
replays the fixture's steps on a fresh instance (so its case, task and timer rows are genuine), puts the old
state and its task ids in place, and then acts through the services on SQLite and PostgreSQL.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.models import HumanTask, HumanTaskStatus, Timer, WorkflowInstance
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers
from engine.workflow.serializer import LEGACY_VERSIONS, SERIALIZER_VERSION
from engine.workflow.state_format import is_flat
from tests.engine.helpers import instance, only_open_task, open_tasks, outbox, timers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "state"
REVIEW = {"job_approval": "review_job", "timesheet_approval": "review_hours"}
PROCESSES = sorted(REVIEW)


def fixture(process_id: str, scenario: str) -> dict:
    return json.loads((FIXTURES / f"{process_id}_{scenario}.json").read_text())


def restore_saved(ctx, deploy, clock, saved: dict) -> int:
    """A running instance whose row holds the fixture's old state, with matching task and timer rows."""
    process_id = saved["process_id"]
    deploy(f"bpmn/{process_id}.bpmn")
    iid = start_instance(ctx, process_id, saved["start_data"])
    for step in saved["steps"]:
        if step[0] == "advance":
            clock.advance(hours=step[1])
        elif step[0] == "complete":
            complete_task(ctx, only_open_task(ctx, iid, REVIEW[process_id]).id, step[2])
        else:
            fire_due_timers(ctx, clock.now)
    assert clock.now == datetime.fromisoformat(saved["saved_at"])
    assert [(t.element_id, t.due_at) for t in timers(ctx, iid)] == [
        (t["element_id"], datetime.fromisoformat(t["due_at"])) for t in saved["timers"]]
    with ctx.uow() as uow:
        session = uow.session
        session.execute(update(WorkflowInstance).where(WorkflowInstance.id == iid).values(
            state=saved["state"], serializer_version=saved["serializer_version"]))
        for element_id, spiff_id in saved["open_tasks"].items():
            session.execute(update(HumanTask).where(
                HumanTask.instance_id == iid, HumanTask.element_id == element_id,
                HumanTask.status == HumanTaskStatus.OPEN).values(spiff_task_id=spiff_id))
        for timer in saved["timers"]:
            session.execute(update(Timer).where(Timer.instance_id == iid, Timer.element_id == timer["element_id"])
                            .values(spiff_task_id=timer["spiff_task_id"]))
        uow.commit()
    row = instance(ctx, iid)
    assert row.serializer_version in LEGACY_VERSIONS and not is_flat(json.loads(row.state))
    assert row.case_status == saved["case_status"]
    return iid


def assert_saved_in_the_new_format(ctx, iid: int) -> None:
    row = instance(ctx, iid)
    assert row.serializer_version == SERIALIZER_VERSION and is_flat(json.loads(row.state))


@pytest.mark.parametrize("process_id", PROCESSES)
def test_an_old_instance_at_review_takes_its_reminder_and_the_approval(ctx, deploy, clock, process_id):
    iid = restore_saved(ctx, deploy, clock, fixture(process_id, "review"))
    assert fire_due_timers(ctx, clock.advance(days=2, seconds=1)) == [iid]
    assert_saved_in_the_new_format(ctx, iid)
    assert instance(ctx, iid).case_status == "reminded"
    assert outbox(ctx, iid)[-1] == "reminder_to_customer"
    complete_task(ctx, only_open_task(ctx, iid, REVIEW[process_id]).id, {"decision": "approve", "comment": "ok"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"
    assert outbox(ctx, iid)[-1] == "approved_to_manager"
    assert timers(ctx, iid) == [] and open_tasks(ctx, iid) == []


@pytest.mark.parametrize("process_id", PROCESSES)
def test_an_old_instance_waiting_for_a_query_answer_resumes_with_the_remaining_period(ctx, deploy, clock, process_id):
    iid = restore_saved(ctx, deploy, clock, fixture(process_id, "query_answer"))
    clock.advance(days=3)
    complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "all of them"})
    assert_saved_in_the_new_format(ctx, iid)
    review = only_open_task(ctx, iid, REVIEW[process_id])
    assert review.due_at == clock.now + timedelta(days=2)  # 7 days minus the 5 used before the query
    assert outbox(ctx, iid)[-1] == "query_answered_to_customer"
    complete_task(ctx, review.id, {"decision": "approve", "comment": ""})
    assert instance(ctx, iid).case_status == "approved"


@pytest.mark.parametrize("process_id", PROCESSES)
def test_an_old_instance_after_a_reminder_expires_at_its_period_end(ctx, deploy, clock, process_id):
    iid = restore_saved(ctx, deploy, clock, fixture(process_id, "reminded"))
    clock.now = datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC)  # past the next reminder and the period's end
    assert fire_due_timers(ctx, clock.now) == [iid]
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "expired_auto_approved"
    assert row.serializer_version == SERIALIZER_VERSION and is_flat(json.loads(row.state))
    assert outbox(ctx, iid)[-2:] == ["reminder_to_customer", "expired_auto_approved_to_manager"]
    assert timers(ctx, iid) == [] and open_tasks(ctx, iid) == []
