"""Dry runs of the shipped job approval and of hostile drafts: what ran, nothing stored in the real database."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.models import InstanceEvent, OutboxMessage, WorkflowInstance
from engine.services.dry_runs import dry_run, parse_steps

ROOT = Path(__file__).resolve().parents[2]
JOB = (ROOT / "bpmn/job_approval.bpmn").read_bytes()
APPROVE = {"action": "complete", "task": "Review the job", "data": {"decision": "approve"}}


def _rows(ctx) -> tuple[int, int, int]:
    with ctx.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(model))
                     for model in (WorkflowInstance, InstanceEvent, OutboxMessage))


def run(ctx, steps, data=JOB, **kwargs):
    return dry_run(ctx, data, "job_approval.bpmn", parse_steps(steps), **kwargs)


def test_approve_ends_approved_with_its_mails_and_statuses_and_stores_nothing(ctx):
    result = run(ctx, [APPROVE])
    assert result.ended and result.end_element == "job_approved" and result.error is None
    assert result.summary == "ends at 'Job approved' (job_approved) after 1 step"
    assert result.path[0] == "job_submitted" and result.path[-1] == "job_approved" and "review_job" in result.path
    assert [m["template"] for m in result.emails] == ["approval_request_to_customer", "approved_to_manager"]
    assert result.emails[0]["subject"] == "Please approve: Window cleaning"
    assert {"what": "job", "status": "approved"} in result.statuses
    assert result.variables["decision"] == "approve" and result.open_tasks == []
    assert _rows(ctx) == (0, 0, 0)


def test_query_then_answer_then_approve(ctx):
    result = run(ctx, [{"action": "complete", "task": "review_job", "data": {"decision": "query", "comment": "Why?"}},
                       {"action": "complete", "task": "answer_query", "data": {"answer": "Because."}}, APPROVE])
    assert result.end_element == "job_approved"
    assert [s["status"] for s in result.statuses if s["what"] == "case"] == [
        "awaiting_customer", "queried", "awaiting_customer", "approved"]
    assert "query_answered_to_customer" in [m["template"] for m in result.emails]


def test_letting_the_period_pass_approves_automatically(ctx):
    result = run(ctx, [{"action": "wait", "duration": "P3D"}, {"action": "wait", "duration": "P5D"}])
    assert result.summary == "ends at 'Job approved automatically' (job_auto_approved) after 2 steps"
    assert {"what": "case", "status": "reminded"} in result.statuses
    assert result.variables["auto_decided"] is True


def test_a_step_that_cannot_be_taken_is_named_and_what_ran_is_kept(ctx):
    result = run(ctx, [{"action": "complete", "task": "answer_query", "data": {}}])
    assert result.error == "step 1: no open task 'answer_query'; open is 'Review the job' (review_job)"
    assert result.open_tasks == ["Review the job"] and "open_review" in result.path
    bad_form = run(ctx, [{"action": "complete", "task": "review_job", "data": {"decision": "maybe"}}])
    assert bad_form.error.startswith("step 1: Review the job: ") and "decision" in bad_form.error


@pytest.mark.parametrize(("steps", "message"), [
    ({"action": "wait"}, "steps: a JSON list"),
    ([{"action": "jump"}], "step 1: action must be 'complete' or 'wait'"),
    ([APPROVE, {"action": "wait", "duration": "soon"}], "step 2: duration 'soon' is not an ISO 8601 duration"),
    ([{"action": "complete"}], "step 1: complete needs the task's name or id"),
    ([{"action": "wait", "duration": "P3D", "task": "x"}], "step 1: wait takes no task"),
    ([{"action": "wait", "duration": "P300D"}, {"action": "wait", "duration": "P300D"}], "waits add up to 600 days"),
])
def test_a_bad_step_is_named(steps, message):
    with pytest.raises(InvalidInput, match=message):
        parse_steps(steps)


def test_an_endless_loop_stays_bounded(ctx):
    loop = (ROOT / "tests/fixtures/bpmn/endless_loop.bpmn").read_bytes()
    result = dry_run(ctx, loop, "endless_loop.bpmn", [], start_data={"n": 0})
    assert not result.ended and "steps without waiting" in result.error
    assert result.summary.startswith("stops after 0 steps: ")
    assert _rows(ctx) == (0, 0, 0)


def test_a_draft_that_does_not_deploy_gives_its_problems(ctx):
    result = run(ctx, [APPROVE], data=JOB.replace(b'isExecutable="true"', b'isExecutable="false"'))
    assert result.problems and "no executable process" in result.problems[0].message
    assert result.path == [] and result.summary == "does not deploy: 1 problem"
    assert run(ctx, [], data=b"\xff\xfe").problems
