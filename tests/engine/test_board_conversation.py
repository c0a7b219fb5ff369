"""The Customer Approval board keeps every round of question and answer after the case is decided (SQLite and
PostgreSQL), read from the case's append-only history rather than from the variables of its last step."""

from engine.services import approval_board, approvals
from engine.services.context import Actor
from engine.services.instances import complete_task
from tests.approval_fixtures import contact
from tests.engine.helpers import only_open_task


def test_each_question_and_answer_stays_on_the_board_once_the_job_is_approved(ctx, office, customer, job):
    _, manager = office
    dana, max_ = contact(customer["id"]), Actor(manager.name, is_system=True)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    for question, answer in (("Inside too?", "Yes, inside too"), ("And the skylight?", "Next week")):
        complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": question},
                      dana)
        complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": answer}, max_)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve"}, dana)
    (row,) = approval_board.list_approvals(ctx, staff=manager)
    assert row["status"] == "approved"
    assert [(said["kind"], said["text"]) for said in row["conversation"]] == [
        ("query", "Inside too?"), ("answer", "Yes, inside too"), ("query", "And the skylight?"),
        ("answer", "Next week")]
    assert row["conversation"][0]["by"] == "dana@millhouse.example"
