"""The case list: filters, keyset paging, scope, bad filter values, and the index behind its default order."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from engine.errors import InvalidInput
from engine.services import approvals
from engine.services.case_list import case_list_query, list_cases, parse_filter
from engine.services.context import SYSTEM, Actor
from engine.services.instances import cancel_instance, complete_task, start_instance
from engine.services.paging import PAGE_SIZE
from tests.engine.helpers import JOB_START, only_open_task
from tests.engine.test_script_errors import run, script

ADMIN = Actor("ada@example.com", staff_id=1, staff_role="admin")


@pytest.fixture
def cases(ctx, deploy, clock):
    """Four job approvals a day apart (customers 7, 7, 8, 8), the second approved, the fourth cancelled."""
    deploy("bpmn/job_approval.bpmn")
    ids = []
    for customer_id in (7, 7, 8, 8):
        ids.append(start_instance(ctx, "job_approval", {**JOB_START, "customer_id": customer_id}))
        clock.advance(days=1)
    complete_task(ctx, only_open_task(ctx, ids[1], "review_job").id, {"decision": "approve"})
    cancel_instance(ctx, ids[3], reason="sent twice")
    return ids


def ids_of(ctx, actor=SYSTEM, **filters) -> list[int]:
    return [row["id"] for row in list_cases(ctx, actor, {k: str(v) for k, v in filters.items()})]


def test_cases_are_listed_newest_first_with_their_place(ctx, cases):
    page = list_cases(ctx, ADMIN)
    assert [row["id"] for row in page] == cases[::-1]
    first = page[-1]
    assert (first["process_id"], first["version"], first["status"]) == ("job_approval", 1, "running")
    assert first["waiting_at"] == "Review the job" and first["case_status"] == "awaiting_customer"


def test_each_filter_narrows_the_list(ctx, cases, clock):
    first, approved, third, cancelled = cases
    assert ids_of(ctx, status="running") == [third, first]
    assert ids_of(ctx, status="completed") == [approved]
    assert ids_of(ctx, customer=8) == [cancelled, third]
    assert ids_of(ctx, process="job_approval", version=1) == cases[::-1]
    assert ids_of(ctx, process="job_approval", version=2) == []
    assert ids_of(ctx, process="timesheet_approval") == []
    assert ids_of(ctx, case_status="approved") == [approved]
    start = (clock.now - timedelta(days=4)).date()
    assert ids_of(ctx, started_from=start + timedelta(days=1), started_to=start + timedelta(days=2)) == [
        third, approved]
    clock.advance(days=5)  # the first case's review (7 days) is overdue now, the third's not yet
    assert ids_of(ctx, overdue="yes") == [first]


def test_waiting_at_finds_the_running_cases_with_an_open_task_or_a_timer_at_the_element(ctx, cases):
    first, _approved, third, _cancelled = cases  # the approved one has left review_job, the cancelled one stopped
    assert ids_of(ctx, waiting_at="review_job") == [third, first]
    assert ids_of(ctx, waiting_at="reminder_due") == [third, first]  # a boundary timer, no task
    assert ids_of(ctx, waiting_at="answer_query") == []
    assert ids_of(ctx, customer=8, waiting_at="review_job") == [third]


def test_the_in_error_and_job_filters(ctx, office, customer, job):
    _, manager = office
    approval = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    broken = run(ctx, "broken", script("compute_total", "total = 1 / 0"))
    assert ids_of(ctx, in_error="true") == [broken]
    assert ids_of(ctx, job=job["id"]) == [approval]
    assert ids_of(ctx, job=job["id"] + 1) == []


def test_the_list_pages_by_keyset_and_a_cursor_is_bound_to_its_filters(ctx, cases):
    first = list_cases(ctx, SYSTEM, size=3)
    rest = list_cases(ctx, SYSTEM, cursor=first.next_cursor, size=3)
    assert [r["id"] for r in first] + [r["id"] for r in rest] == cases[::-1] and not rest.next_cursor
    back = list_cases(ctx, SYSTEM, cursor=rest.prev_cursor, size=3)
    assert [r["id"] for r in back] == [r["id"] for r in first]
    with pytest.raises(InvalidInput, match="cursor"):
        list_cases(ctx, SYSTEM, {"status": "running"}, cursor=first.next_cursor)


def test_a_manager_and_a_contact_see_only_their_customers_cases(ctx, office, customer, job):
    admin, manager = office
    approval = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    start_instance(ctx, "job_approval", {**JOB_START, "customer_id": customer["id"] + 50})
    assert ids_of(ctx, manager.actor) == [approval]
    assert ids_of(ctx, Actor("dana", frozenset({"customer"}), frozenset({customer["id"]}))) == [approval]
    assert len(ids_of(ctx, admin.actor)) == 2


@pytest.mark.parametrize(("filters", "named"), [
    ({"status": "asleep"}, "status"), ({"customer": "seven"}, "customer"), ({"version": "1"}, "version"),
    ({"started_from": "yesterday"}, "started_from"), ({"started_to": "2026-12-01T10:00"}, "started_to"),
    ({"overdue": "maybe"}, "overdue"), ({"colour": "red"}, "colour"), ({"job": "-1"}, "job"),
    ({"started_from": "2026-12-02", "started_to": "2026-12-01"}, "started_to"),
    ({"waiting_at": "x" * 201}, "waiting_at"),
])
def test_a_bad_filter_value_is_named(filters, named):
    with pytest.raises(InvalidInput, match=f"^{named}: "):
        parse_filter(filters)


def explain(ctx, query) -> str:
    compiled = query.compile(ctx.db, compile_kwargs={"literal_binds": True})
    with ctx.db.connect() as conn:
        if ctx.is_postgres:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a four-row table: show the planner's index choice
            return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
        return "\n".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))


def test_the_default_order_is_read_from_an_index_without_sorting(ctx, cases):
    query = (case_list_query(ADMIN, parse_filter({}), ctx.clock())
             .order_by(text("workflow_instance.created_at DESC, workflow_instance.id DESC")).limit(PAGE_SIZE + 1))
    plan = explain(ctx, query)
    outer = plan.split("SubPlan")[0].split("CORRELATED")[0]  # the page's own plan, not the waiting-at lookup
    assert "ix_workflow_instance_created" in outer and "Sort" not in outer and "TEMP B-TREE" not in outer, plan


def test_a_date_filter_is_a_whole_day_in_the_company_time_zone():
    chosen = parse_filter({"started_from": "2026-12-01", "started_to": "2026-12-01"}, ZoneInfo("Europe/Amsterdam"))
    assert chosen.started_from == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert chosen.started_to == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
