"""A case's story in words: names instead of ids and addresses, open tasks and who may do them, timers, errors."""

import pytest

from engine.errors import NotFound
from engine.services import approvals, operations
from engine.services.case_story import get_case_story
from engine.services.context import Actor
from engine.services.instances import complete_task
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import contact
from tests.engine.helpers import only_open_task
from tests.engine.test_script_errors import run, script


def main_lines(story: dict) -> list[str]:
    return [line["text"] for line in story["timeline"] if line["level"] == "main"]


def test_the_story_names_people_and_elements_in_the_business_words(ctx, office, customer, job, clock):
    _, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    clock.advance(hours=5)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": "Inside too?"},
                  contact(customer["id"]))
    story = get_case_story(ctx, iid, manager.actor)
    assert story["open_tasks"][0]["name"] == "Answer the customer's question"
    assert story["open_tasks"][0]["may_complete"] == ["Ada Admin", "Max Manager"]  # admins may act for managers
    complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "Yes, inside too"}, manager.actor)
    story = get_case_story(ctx, iid, manager.actor)
    lines = main_lines(story)
    assert "Dana (Mill House) asked: 'Inside too?'" in lines
    assert "Max Manager answered: 'Yes, inside too'" in lines
    assert lines.count("Waiting at Review the job") == 2
    asked = next(line for line in story["timeline"] if line["text"].startswith("Dana"))
    assert asked["line"] == "Dana (Mill House) asked: 'Inside too?' · 24 Nov 14:00"
    assert any(line["level"] == "detail" and line["text"] == "Ask the customer to approve the job"
               for line in story["timeline"])
    assert story["open_tasks"][0]["may_complete"] == ["Dana (Mill House)"]
    assert [t["name"] for t in story["timers"]] == ["Reminder due", "Approval period ended"]
    assert story["position"][0] == "review_job" and "answer_query" in story["path"]
    assert story["variables"]["title"] and story["error"] is None


def test_an_expired_period_reads_as_its_outcome(ctx, office, customer, job, clock):
    admin, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    clock.advance(days=8)
    fire_due_timers(ctx)
    story = get_case_story(ctx, iid, admin.actor)
    assert main_lines(story) == ["Max Manager started the case (version 1)", "Waiting at Review the job",
                                 "Reminder due: reminder sent", "Approval period ended: job approved automatically"]
    assert story["status"] == "completed" and story["open_tasks"] == [] and story["position"] == []


def test_a_case_outside_the_scope_has_no_story(ctx, office, customer, job):
    _, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    with pytest.raises(NotFound):
        get_case_story(ctx, iid, Actor("x@other.example", frozenset({"customer"}), frozenset({customer["id"] + 1})))
    with pytest.raises(NotFound):
        get_case_story(ctx, iid + 1000, manager.actor)


def test_an_error_is_told_with_its_element_and_message(ctx):
    iid = run(ctx, "broken", script("compute_total", "total = 1 / 0"))
    story = get_case_story(ctx, iid)
    assert story["status"] == "error"
    assert story["error"]["element_id"] == "compute_total" and "division by zero" in story["error"]["message"]
    assert any(line.startswith("Stopped with an error at compute_total: ") for line in main_lines(story))
    assert story["position"] == ["compute_total"]


def test_operator_actions_read_as_who_did_what_and_why(ctx, office, customer, job):
    admin, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": "Inside too?"},
                  contact(customer["id"]))
    question = only_open_task(ctx, iid, "answer_query").id
    operations.claim_task(ctx, manager.actor, question)
    operations.reassign_task(ctx, manager.actor, question, admin.id, "Max is on holiday")
    operations.set_variable(ctx, admin.actor, iid, "note", '"ring twice"', "the customer asked")
    operations.set_variable(ctx, admin.actor, iid, "note", '"ring once"', "corrected")
    lines = main_lines(get_case_story(ctx, iid, admin.actor))
    assert "Max Manager took Answer the customer's question" in lines
    assert "Max Manager gave Answer the customer's question to Ada Admin: 'Max is on holiday'" in lines
    assert "Ada Admin set note to '\"ring twice\"': 'the customer asked'" in lines
    assert "Ada Admin set note from '\"ring twice\"' to '\"ring once\"': 'corrected'" in lines
