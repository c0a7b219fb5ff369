"""A contact's decisions in bulk and per registration (SQLite and PostgreSQL): per-item results, nothing
applied twice, only the contact's own customer, and per-registration verdicts that decide the timesheet."""

from datetime import date

import pytest

from engine.bench.statements import count_statements
from engine.errors import InvalidInput, NotFound
from engine.services import approval_board, approvals, customers, jobs
from engine.services.context import Actor
from engine.services.instances import complete_task
from engine.services.portal_decisions import decide_registrations, decide_tasks
from tests.approval_fixtures import add_hours, contact, registration_statuses
from tests.engine.helpers import events, instance, open_tasks, run_together


@pytest.fixture
def two_jobs(ctx, office, customer, job):
    _, manager = office
    second = jobs.create_job(ctx, customer["id"], staff=manager, name="Gutters", requires_customer_approval=True)
    return [approvals.send_job_for_approval(ctx, j["id"], staff=manager) for j in (job, second)]


def review_ids(ctx, instance_ids):
    return [open_tasks(ctx, iid)[0].id for iid in instance_ids]


def test_bulk_approval_decides_each_selected_task(ctx, customer, two_jobs):
    results = decide_tasks(ctx, contact(customer["id"]), review_ids(ctx, two_jobs), "approve")
    assert all(r["ok"] for r in results) and len(results) == 2
    assert all(instance(ctx, iid).case_status == "approved" for iid in two_jobs)


def test_an_item_decided_by_someone_else_is_reported_not_applied_twice(ctx, customer, two_jobs):
    first, second = review_ids(ctx, two_jobs)
    complete_task(ctx, first, {"decision": "approve"}, contact(customer["id"]))
    results = decide_tasks(ctx, contact(customer["id"]), [first, second], "reject", "Not done")
    assert [r["ok"] for r in results] == [False, True] and "already approved this on" in results[0]["message"]
    assert [instance(ctx, iid).case_status for iid in two_jobs] == ["approved", "rejected"]


def test_a_bulk_decision_reads_the_selection_once_and_costs_no_more_per_item_than_one_decision(ctx, office, customer,
                                                                                               two_jobs):
    _, manager = office
    third = jobs.create_job(ctx, customer["id"], staff=manager, name="Windows", requires_customer_approval=True)
    alone, *selection = review_ids(ctx, [approvals.send_job_for_approval(ctx, third["id"], staff=manager), *two_jobs])
    with count_statements(ctx) as single:
        complete_task(ctx, alone, {"decision": "approve"}, contact(customer["id"]))
    with count_statements(ctx) as bulk:
        results = decide_tasks(ctx, contact(customer["id"]), selection, "approve")
    assert all(r["ok"] and r["title"] for r in results)
    assert bulk.count <= len(selection) * single.count + 1  # + the one read of the whole selection


def test_a_query_needs_a_comment_and_then_nothing_is_decided(ctx, customer, two_jobs):
    with pytest.raises(InvalidInput, match="comment: required when decision is query"):
        decide_tasks(ctx, contact(customer["id"]), review_ids(ctx, two_jobs), "query", "  ")
    with pytest.raises(InvalidInput, match="decision: must be one of"):
        decide_tasks(ctx, contact(customer["id"]), review_ids(ctx, two_jobs), "delete")
    assert all(instance(ctx, iid).case_status == "awaiting_customer" for iid in two_jobs)


def test_a_contact_of_another_customer_finds_nothing(ctx, office, customer, two_jobs):
    _, manager = office
    other = customers.create_customer(ctx, staff=manager, name="Other", contact_email="o@other.example",
                                      contact_name="O")
    stranger = Actor("o@other.example", frozenset({"customer"}), frozenset({other["id"]}))
    results = decide_tasks(ctx, stranger, review_ids(ctx, two_jobs), "approve")
    assert [r["message"] for r in results] == ["not found", "not found"]
    assert all(instance(ctx, iid).case_status == "awaiting_customer" for iid in two_jobs)


def test_registration_verdicts_decide_the_timesheet_when_all_are_given(ctx, office, customer, job):
    _, manager = office
    ids = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3, 4)]
    iid = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                            period_end="2026-11-30")
    dana = contact(customer["id"])
    assert all(r["ok"] for r in decide_registrations(ctx, dana, customer["id"], ids[:1], "approve"))
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["review_hours"]
    (board,) = approval_board.list_approvals(ctx, staff=manager)
    assert board["verdicts"] == {"total": 3, "approved": 1, "rejected": 0}
    results = decide_registrations(ctx, dana, customer["id"], ids[1:], "reject", "Nobody was there")
    assert all(r["ok"] for r in results) and open_tasks(ctx, iid) == []
    statuses = registration_statuses(ctx, ids)
    assert statuses[ids[0]] == ("approved", iid, None)
    assert statuses[ids[1]] == statuses[ids[2]] == ("rejected", iid, "Nobody was there")
    assert instance(ctx, iid).case_status == "rejected"
    again = approvals.resend_approval(ctx, iid, staff=manager)
    assert instance(ctx, again).data["registration_ids"] == ids[1:]
    (shown, *_) = approval_board.list_approvals(ctx, staff=manager)
    assert shown["id"] == again


def test_registrations_of_another_customer_or_not_under_review_are_refused(ctx, office, customer, job):
    _, manager = office
    draft = add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    results = decide_registrations(ctx, contact(customer["id"]), customer["id"], [draft, 999_999], "approve")
    assert [r["message"] for r in results] == ["not under approval", "not found"]
    stranger = Actor("o@other.example", frozenset({"customer"}), frozenset({customer["id"] + 1}))
    with pytest.raises(NotFound, match="no customer"):
        decide_registrations(ctx, stranger, customer["id"], [draft], "approve")


def test_two_contacts_deciding_registrations_of_one_timesheet_at_once_decide_it_once(ctx, office, customer, job):
    _, manager = office
    ids = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3)]
    iid = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                            period_end="2026-11-30")
    dana, ed = contact(customer["id"]), Actor("ed@millhouse.example", frozenset({"customer"}),
                                              frozenset({customer["id"]}))
    results = run_together(lambda: decide_registrations(ctx, dana, customer["id"], ids[:1], "approve"),
                           lambda: decide_registrations(ctx, ed, customer["id"], ids[1:], "reject", "Not us"))
    assert all(error is None and value[0]["ok"] for value, error in results)
    assert open_tasks(ctx, iid) == [] and instance(ctx, iid).case_status == "rejected"
    statuses = registration_statuses(ctx, ids)
    assert [statuses[rid][0] for rid in ids] == ["approved", "rejected"]
    assert len(events(ctx, iid, "task_completed")) == 1


def test_two_contacts_bulk_deciding_the_same_tasks_at_once_decide_each_once(ctx, office, customer, two_jobs):
    _, manager = office
    more = [jobs.create_job(ctx, customer["id"], staff=manager, name=f"Job {n}", requires_customer_approval=True)
            for n in range(3)]
    iids = [*two_jobs, *(approvals.send_job_for_approval(ctx, j["id"], staff=manager) for j in more)]
    selection = review_ids(ctx, iids)
    ed = Actor("ed@millhouse.example", frozenset({"customer"}), frozenset({customer["id"]}))
    results = run_together(lambda: decide_tasks(ctx, contact(customer["id"]), selection, "approve"),
                           lambda: decide_tasks(ctx, ed, list(reversed(selection)), "reject", "Not us"))
    assert all(error is None for _, error in results)
    approved, rejected = ({r["task_id"]: r for r in value} for value, _ in results)
    assert all(approved[t]["ok"] != rejected[t]["ok"] for t in selection)  # one winner per task
    assert all(" already " in r["message"] for r in [*approved.values(), *rejected.values()] if not r["ok"])
    assert [instance(ctx, iid).case_status for iid in iids] == [
        "approved" if approved[t]["ok"] else "rejected" for t in selection]
    assert all(len(events(ctx, iid, "task_completed")) == 1 for iid in iids)
