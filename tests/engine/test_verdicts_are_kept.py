"""A registration's verdict stays as the contact gave it (SQLite and PostgreSQL): deciding a selection that
includes it ("select all") leaves it and its comment alone; changing it needs an explicit choice and is recorded
in the case's history with the old and the new verdict and comment."""

from engine.models import Registration
from engine.services.portal_decisions import decide_registrations
from tests.approval_fixtures import contact
from tests.engine.helpers import events, open_tasks


def verdict(ctx, rid):
    with ctx.uow() as uow:
        row = uow.session.get(Registration, rid)
        return row.customer_decision, row.customer_comment


def test_select_all_keeps_an_earlier_rejection_and_its_comment(ctx, customer, timesheet):
    dana, (first, second) = contact(customer["id"]), timesheet["hours"]
    decide_registrations(ctx, dana, customer["id"], [first], "reject", "Nobody was there")
    results = decide_registrations(ctx, dana, customer["id"], [first, second], "approve")
    assert verdict(ctx, first) == ("reject", "Nobody was there") and verdict(ctx, second) == ("approve", None)
    assert [r["ok"] for r in results] == [False, True] and "kept your earlier verdict (rejected)" in \
        results[0]["message"]
    assert [e.kind for e in events(ctx, timesheet["instance_id"]) if e.kind.startswith("registration_")] == \
        ["registration_decided", "registration_decided"]


def test_a_verdict_changed_on_purpose_is_recorded_with_the_old_and_the_new(ctx, customer, timesheet):
    dana, (first, _) = contact(customer["id"]), timesheet["hours"]
    decide_registrations(ctx, dana, customer["id"], [first], "reject", "Nobody was there")
    (result,) = decide_registrations(ctx, dana, customer["id"], [first], "approve", "Checked: fine",
                                     change_ids=[first])
    assert result["ok"] and verdict(ctx, first) == ("approve", "Checked: fine")
    (changed,) = events(ctx, timesheet["instance_id"], "registration_verdict_changed")
    assert changed.actor == "dana@millhouse.example" and changed.data == {
        "registration_id": first, "decision": "approve", "comment": "Checked: fine",
        "previous_decision": "reject", "previous_comment": "Nobody was there"}
    assert [t.element_id for t in open_tasks(ctx, timesheet["instance_id"])] == ["review_job"]
