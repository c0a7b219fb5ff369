"""A process drawn the ordinary Camunda Modeler way (tests/fixtures/bpmn/camunda_style_review.bpmn) runs unchanged."""

from datetime import timedelta

import pytest

from engine.errors import InvalidInput
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers
from tests.engine.helpers import completed_elements, events, instance, only_open_task, open_tasks, timers

FIXTURE = "tests/fixtures/bpmn/camunda_style_review.bpmn"


@pytest.fixture
def expense(ctx, deploy):
    [deployed] = deploy(FIXTURE)
    assert (deployed.process_id, deployed.version, deployed.created) == ("expense_review", 1, True)

    def start(**data):
        return start_instance(ctx, "expense_review", {"customer_id": 7, **data})

    return start


def test_the_review_form_carries_the_camunda_form_fields(ctx, expense):
    form = {f["id"]: f for f in only_open_task(ctx, expense(), "review_expense").form}
    assert list(form) == ["decision", "remark", "urgent", "amount_cents"]
    assert form["decision"]["type"] == "enum" and form["decision"]["required"] is True
    assert [(o["id"], o["name"]) for o in form["decision"]["options"]] == [
        ("approve", "Approve"), ("reject", "Reject"), ("rework", "Send back for rework")]
    assert form["remark"]["type"] == "string" and not form["remark"].get("required")
    assert form["urgent"]["type"] == "boolean"
    assert form["amount_cents"]["type"] == "long" and form["amount_cents"]["required"] is True
    assert str(form["amount_cents"]["min"]) == "0"


def test_the_review_task_sits_in_the_customer_lane(ctx, expense, clock):
    iid = expense()
    task = only_open_task(ctx, iid, "review_expense")
    assert task.lane == "Customer" and task.role == "customer" and task.customer_id == 7
    assert task.due_at == clock.now + timedelta(hours=48)
    assert [(t.element_id, t.due_at) for t in timers(ctx, iid)] == [("Event_0k2f7rw", clock.now + timedelta(hours=48))]


def test_form_values_are_typed_and_checked(ctx, expense):
    iid = expense()
    task = only_open_task(ctx, iid, "review_expense")
    with pytest.raises(InvalidInput, match="amount_cents"):
        complete_task(ctx, task.id, {"decision": "approve", "amount_cents": "lots"})
    with pytest.raises(InvalidInput, match="amount_cents"):
        complete_task(ctx, task.id, {"decision": "approve"})
    with pytest.raises(InvalidInput, match="decision"):
        complete_task(ctx, task.id, {"decision": "maybe", "amount_cents": 5})
    assert only_open_task(ctx, iid, "review_expense").id == task.id
    complete_task(ctx, task.id, {"decision": "approve", "amount_cents": "1250", "urgent": "false"})
    row = instance(ctx, iid)
    assert row.data["amount_cents"] == 1250 and row.data["urgent"] is False


def test_approve_ends_at_expense_accepted(ctx, expense):
    iid = expense()
    complete_task(ctx, only_open_task(ctx, iid, "review_expense").id, {"decision": "approve", "amount_cents": 4200})
    row = instance(ctx, iid)
    assert row.status == "completed"
    assert completed_elements(ctx, iid)[-1] == "expense_accepted"
    assert "expense_refused" not in completed_elements(ctx, iid)
    assert open_tasks(ctx, iid) == [] and timers(ctx, iid) == []


def test_reject_ends_at_expense_refused(ctx, expense):
    iid = expense()
    complete_task(ctx, only_open_task(ctx, iid, "review_expense").id,
                  {"decision": "reject", "amount_cents": 4200, "remark": "no receipt"})
    assert instance(ctx, iid).status == "completed"
    assert completed_elements(ctx, iid)[-1] == "expense_refused"
    assert "expense_accepted" not in completed_elements(ctx, iid)


def test_urgent_rework_is_refused_through_the_or_condition(ctx, expense):
    iid = expense()
    complete_task(ctx, only_open_task(ctx, iid, "review_expense").id,
                  {"decision": "rework", "amount_cents": 1, "urgent": True})
    assert instance(ctx, iid).status == "completed"
    assert completed_elements(ctx, iid)[-1] == "expense_refused"


def test_rework_loops_back_into_the_review_through_fix_expense(ctx, expense):
    iid = expense()
    first = only_open_task(ctx, iid, "review_expense")
    complete_task(ctx, first.id, {"decision": "rework", "amount_cents": 100, "urgent": False})
    fix = only_open_task(ctx, iid, "fix_expense")
    assert fix.role == "manager"
    assert timers(ctx, iid) == []
    complete_task(ctx, fix.id, {"amount_cents": 90, "remark": "typo"})
    second = only_open_task(ctx, iid, "review_expense")
    assert second.id != first.id
    assert instance(ctx, iid).data["amount_cents"] == 90
    assert [t.element_id for t in timers(ctx, iid)] == ["Event_0k2f7rw"]
    complete_task(ctx, second.id, {"decision": "approve", "amount_cents": 90})
    assert instance(ctx, iid).status == "completed"
    assert completed_elements(ctx, iid)[-1] == "expense_accepted"
    assert [e.element_id for e in events(ctx, iid, "task_completed")] == [
        "review_expense", "fix_expense", "review_expense"]


def test_the_bare_pt48h_timer_hands_an_overdue_review_to_the_manager(ctx, expense, clock):
    iid = expense()
    review = only_open_task(ctx, iid, "review_expense")
    assert fire_due_timers(ctx, clock.advance(hours=47)) == []
    assert fire_due_timers(ctx, clock.advance(hours=2)) == [iid]
    overdue = only_open_task(ctx, iid, "handle_overdue_expense")
    assert overdue.role == "manager"
    assert [e.element_id for e in events(ctx, iid, "timer_fired")] == ["Event_0k2f7rw"]
    assert review.id not in [t.id for t in open_tasks(ctx, iid)]
    complete_task(ctx, overdue.id, {"decision": "reject", "remark": "too late"})
    assert instance(ctx, iid).status == "completed"
    assert completed_elements(ctx, iid)[-1] == "expense_refused"


def test_overdue_expense_approved_by_the_manager_is_accepted(ctx, expense, clock):
    iid = expense()
    fire_due_timers(ctx, clock.advance(hours=49))
    complete_task(ctx, only_open_task(ctx, iid, "handle_overdue_expense").id, {"decision": "approve"})
    assert completed_elements(ctx, iid)[-1] == "expense_accepted"
