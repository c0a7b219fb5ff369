"""A query needs a comment on every surface, because the engine's one form check holds it (SQLite and
PostgreSQL): the shipped reviews declare it on their comment field (`required_when`), and a bad declaration is
refused at deploy."""

from datetime import date

import pytest

from engine.errors import DeployError, InvalidInput
from engine.services import approvals
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task
from engine.workflow.forms import check_rules, validate_form
from tests.approval_fixtures import add_hours, contact
from tests.conftest import ROOT
from tests.engine.helpers import instance, only_open_task

REVIEW_FORM = [
    {"id": "decision", "type": "enum", "required": True,
     "options": [{"id": "approve"}, {"id": "reject"}, {"id": "query"}]},
    {"id": "comment", "type": "string", "required_when": "decision=query"},
]


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_the_form_check_requires_the_comment_of_a_query(comment):
    data = {"decision": "query"} | ({} if comment is None else {"comment": comment})
    with pytest.raises(InvalidInput, match="comment: required when decision is query"):
        validate_form(REVIEW_FORM, data)
    assert validate_form(REVIEW_FORM, {"decision": "approve"}) == {"decision": "approve", "comment": None}
    assert validate_form(REVIEW_FORM, {"decision": "query", "comment": "Why?"})["comment"] == "Why?"


@pytest.mark.parametrize(("rule", "message"), [
    ("decision", "must read other_field=value"), ("=query", "must read other_field=value"),
    ("status=query", "names 'status', not another field"), ("decision=ask", "not all options of 'decision'"),
])
def test_a_bad_rule_is_named(rule, message):
    problems = check_rules([REVIEW_FORM[0], {**REVIEW_FORM[1], "required_when": rule}])
    assert len(problems) == 1 and message in problems[0]


def test_a_bad_rule_in_a_diagram_is_refused_at_deploy(ctx):
    xml = (ROOT / "bpmn/job_approval.bpmn").read_text().replace('value="decision=query"', 'value="decision=ask"', 1)
    with pytest.raises(DeployError, match="review_job.*required_when values"):
        deploy_file(ctx, SYSTEM, xml.encode(), "job_approval.bpmn")


@pytest.mark.parametrize("process", ["job_approval", "timesheet_approval"])
def test_a_query_without_a_comment_is_refused_and_changes_nothing(ctx, office, customer, job, process):
    _, manager = office
    add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    if process == "job_approval":
        iid, element = approvals.send_job_for_approval(ctx, job["id"], staff=manager), "review_job"
    else:
        iid = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                                period_end="2026-11-30")
        element = "review_hours"
    task = only_open_task(ctx, iid, element)
    for data in ({"decision": "query"}, {"decision": "query", "comment": "  \n"}):
        with pytest.raises(InvalidInput, match="comment: required when decision is query"):
            complete_task(ctx, task.id, data, contact(customer["id"]))
    assert only_open_task(ctx, iid, element).id == task.id and instance(ctx, iid).case_status == "awaiting_customer"
    complete_task(ctx, task.id, {"decision": "query", "comment": "Inside too?"}, contact(customer["id"]))
    assert instance(ctx, iid).case_status == "queried"
