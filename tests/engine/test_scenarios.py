"""Saved scenarios: save, re-run against a draft, and the sentence that says which changed."""

from pathlib import Path

import pytest

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.services import scenarios
from engine.services.dry_runs import dry_run, parse_steps
from engine.services.staff_auth import create_staff_user
from tests.conftest import STAFF_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
JOB = (ROOT / "bpmn/job_approval.bpmn").read_bytes()
APPROVE = parse_steps([{"action": "complete", "task": "review_job", "data": {"decision": "approve"}}])
EXPIRE = parse_steps([{"action": "wait", "duration": "P8D"}])
# the same process, but the period's end escalates to the manager instead of approving
ESCALATING = JOB.replace(b"period_end_action == 'auto_approve'", b"period_end_action == 'never'")


def _save(ctx, actor, name, steps):
    expected = dry_run(ctx, JOB, "job_approval.bpmn", steps).summary
    return scenarios.save_scenario(ctx, actor, "job_approval", name, steps, expected)


def test_saved_scenarios_rerun_and_a_changed_draft_is_reported(ctx, manager_staff):
    assert ESCALATING != JOB
    actor = manager_staff.actor
    _save(ctx, actor, "approve", APPROVE)
    _save(ctx, actor, "let it expire", EXPIRE)
    assert [(s.name, s.steps) for s in scenarios.list_scenarios(ctx, actor, "job_approval")] == [
        ("approve", APPROVE), ("let it expire", EXPIRE)]

    same = scenarios.rerun_scenarios(ctx, actor, "job_approval", JOB, "job_approval.bpmn")
    assert [o.same for o in same] == [True, True]
    assert scenarios.regression_sentence(same) == "2 of 2 scenarios still end where they did"

    changed = scenarios.rerun_scenarios(ctx, actor, "job_approval", ESCALATING, "job_approval.bpmn")
    assert [o.same for o in changed] == [True, False]
    sentence = scenarios.regression_sentence(changed)
    assert sentence.startswith("1 of 2 scenarios still end where they did; 'let it expire' now ")
    assert sentence.endswith("now waits at 'Decide the job the customer did not review' instead of ending at "
                             "'Job approved automatically'")


def test_same_name_replaces_and_delete_removes(ctx, manager_staff):
    actor = manager_staff.actor
    first = _save(ctx, actor, "approve", APPROVE)
    second = _save(ctx, actor, "approve", EXPIRE)
    assert [s.id for s in scenarios.list_scenarios(ctx, actor, "job_approval")] == [second.id]
    scenarios.delete_scenario(ctx, actor, second.id)
    assert scenarios.list_scenarios(ctx, actor, "job_approval") == []
    with pytest.raises(NotFound):
        scenarios.delete_scenario(ctx, actor, first.id)


def test_refusals(ctx, manager_staff):
    employee = create_staff_user(ctx, "eve@example.com", "Eve Employee", "employee", STAFF_PASSWORD)
    with pytest.raises(NotAllowed):
        scenarios.list_scenarios(ctx, employee.actor, "job_approval")
    with pytest.raises(InvalidInput, match="name: give the scenario a name"):
        scenarios.save_scenario(ctx, manager_staff.actor, "job_approval", "  ", APPROVE, "")
    assert scenarios.regression_sentence([]) == ""


def test_a_scenario_keeps_its_start_data_for_the_rerun(ctx, manager_staff):
    """An escalating customer's expiry ends at the manager; re-run, the scenario plays that customer again."""
    actor = manager_staff.actor
    start = {"period_end_action": "escalate"}
    escalated = dry_run(ctx, JOB, "job_approval.bpmn", EXPIRE, start).summary
    assert escalated != dry_run(ctx, JOB, "job_approval.bpmn", EXPIRE).summary
    saved = scenarios.save_scenario(ctx, actor, "job_approval", "strict customer lets it expire", EXPIRE, escalated,
                                    start)
    assert saved.start_data == start
    (outcome,) = scenarios.rerun_scenarios(ctx, actor, "job_approval", JOB, "job_approval.bpmn")
    assert outcome.same and outcome.result.summary == escalated
    with pytest.raises(InvalidInput, match="start data"):
        scenarios.save_scenario(ctx, actor, "job_approval", "bad", EXPIRE, escalated, ["not", "an", "object"])
