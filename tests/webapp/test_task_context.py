"""The page to answer a customer's question and the escalation page show the case: the question, who asked and
when, the customer, the job, its registrations with their evidence and earlier rounds (SQLite and PostgreSQL)."""

from datetime import date

from engine.services import approvals
from engine.services.context import Actor
from engine.services.instances import complete_task
from engine.services.task_context import get_task_context
from tests.approval_fixtures import PASSWORD, add_hours, contact
from tests.engine.helpers import only_open_task
from tests.webapp.conftest import log_in


def _ask(ctx, iid: int, customer_id: int, question: str) -> None:
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": question},
                  contact(customer_id))


def test_the_answer_page_shows_the_question_the_job_its_evidence_and_the_earlier_round(ctx, client, office,
                                                                                      customer, timesheet):
    _, manager = office
    iid = timesheet["instance_id"]
    _ask(ctx, iid, customer["id"], "Were the skylights done?")
    complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "Yes, on Tuesday"},
                  Actor(manager.name, is_system=True))
    _ask(ctx, iid, customer["id"], "And the gutters?")
    task_id = only_open_task(ctx, iid, "answer_query").id
    log_in(client, manager.email, PASSWORD)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    question = page.index("The customer's question</h2>")
    assert page.index("And the gutters?") > question
    assert "Asked by dana@millhouse.example" in page
    assert "Mill House" in page and "<dt>Job</dt>" in page and "Window cleaning</a>" in page
    assert "Eli Employee" in page and "2:00 h" in page and "12.50" in page
    assert "Check-in 09:05" in page or "Check-in 10:05" in page
    earlier = page.index("Earlier questions and answers")
    assert page.index("Were the skylights done?") > earlier and page.index("Yes, on Tuesday") > earlier


def test_answering_names_the_case_in_the_result_message(ctx, client, office, customer, timesheet):
    _, manager = office
    iid = timesheet["instance_id"]
    _ask(ctx, iid, customer["id"], "Why two hours?")
    task_id = only_open_task(ctx, iid, "answer_query").id
    log_in(client, manager.email, PASSWORD)
    done = client.post(f"/tasks/{task_id}", data={"answer": "Big windows"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Answer sent: Job Window cleaning, Mill House." in page and "Done:" not in page


def test_the_context_is_in_the_actors_scope(ctx, office, customer, timesheet, other):
    _, manager = office
    iid = timesheet["instance_id"]
    _ask(ctx, iid, customer["id"], "Why?")
    task_id = only_open_task(ctx, iid, "answer_query").id
    case = get_task_context(ctx, task_id, Actor("max", frozenset({"manager"}), staff_id=manager.id,
                                                 staff_role="manager"))
    assert case["question"]["text"] == "Why?" and case["customer"]["name"] == "Mill House"
    assert {r["id"] for r in case["registrations"]} == {*timesheet["hours"], timesheet["expense"]}
    assert all(r["approval_instance_id"] == iid for r in case["registrations"])


def test_a_timesheet_answer_page_names_the_period(ctx, client, office, customer, job, eli):
    _, manager = office
    add_hours(ctx, job["id"], eli.id, date(2026, 11, 3))
    iid = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                            period_end="2026-11-30")
    complete_task(ctx, only_open_task(ctx, iid, "review_hours").id,
                  {"decision": "query", "comment": "Who is Eli?"}, contact(customer["id"]))
    task_id = only_open_task(ctx, iid, "answer_query").id
    log_in(client, manager.email, PASSWORD)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Hours 01 Nov – 30 Nov 2026" in page and "Who is Eli?" in page
