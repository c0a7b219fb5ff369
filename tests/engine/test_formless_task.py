"""A user task without a form: integrations and the CLI give it any variables, pages only a comment."""

import pytest

from engine.errors import InvalidInput
from engine.services.instances import complete_task, start_instance
from tests.engine.helpers import instance, only_open_task

FIXTURE = "tests/fixtures/bpmn/sign_off_without_form.bpmn"


@pytest.fixture
def sign_off(ctx, deploy):
    deploy(FIXTURE)
    iid = start_instance(ctx, "sign_off", {"signed_off": False})
    return iid, only_open_task(ctx, iid, "sign_off_task")


def test_an_integration_sets_any_variables_and_the_gateway_follows_them(ctx, sign_off):
    iid, task = sign_off
    complete_task(ctx, task.id, {"signed_off": True, "checked_by": {"name": "Dana", "ids": [1, 2]}})
    row = instance(ctx, iid)
    assert row.status == "completed"
    assert row.data["checked_by"] == {"name": "Dana", "ids": [1, 2]}


@pytest.mark.parametrize("name", ["_private", "1st", "not-a-name", "class"])
def test_a_variable_a_process_cannot_read_is_refused_and_nothing_changes(ctx, sign_off, name):
    iid, task = sign_off
    with pytest.raises(InvalidInput, match="not a variable name"):
        complete_task(ctx, task.id, {name: 1, "signed_off": True})
    assert instance(ctx, iid).status == "running"
    only_open_task(ctx, iid, "sign_off_task")


def test_a_page_may_post_only_a_comment_to_a_task_without_a_form(ctx, sign_off):
    iid, task = sign_off
    with pytest.raises(InvalidInput, match="signed_off: not a field of this form"):
        complete_task(ctx, task.id, {"signed_off": "true"}, strict=True)
    complete_task(ctx, task.id, {"comment": "Looked fine"}, strict=True)
    row = instance(ctx, iid)
    assert row.status == "completed" and row.data["comment"] == "Looked fine"


def test_a_form_with_fields_still_refuses_undeclared_ones_from_integrations(ctx, deploy):
    deploy("tests/fixtures/bpmn/camunda_style_review.bpmn")
    iid = start_instance(ctx, "expense_review", {"customer_id": 7})
    task = only_open_task(ctx, iid, "review_expense")
    with pytest.raises(InvalidInput, match="signed_off: not a field of this form"):
        complete_task(ctx, task.id, {"decision": "approve", "amount_cents": 5, "signed_off": True})
