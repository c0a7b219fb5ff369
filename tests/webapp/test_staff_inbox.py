"""The staff inbox and task pages over job_approval: the Manager lane, BPMN forms, completion."""
# escalated_job moves the clock 8 days, so it comes before the login fixtures in each signature.

import re

from engine.services.inbox import get_instance, list_open_tasks
from tests.webapp.conftest import log_in


def _task(ctx, instance_id: int, element_id: str) -> dict:
    return next(t for t in list_open_tasks(ctx, instance_id) if t["element_id"] == element_id)


def test_inbox_shows_the_manager_lane_task_but_not_the_customer_review(ctx, escalated_job, as_manager):
    escalated, waiting = escalated_job
    page = as_manager.get("/inbox").get_data(as_text=True)
    assert f"/tasks/{_task(ctx, escalated, 'decide_escalation')['id']}" in page
    assert f"/tasks/{_task(ctx, waiting, 'review_job')['id']}" not in page
    assert as_manager.get("/tasks/{}".format(_task(ctx, waiting, "review_job")["id"])).status_code == 403


def test_inbox_filters_by_process_and_due(ctx, escalated_job, as_manager):
    task_id = _task(ctx, escalated_job[0], "decide_escalation")["id"]
    assert f"/tasks/{task_id}" in as_manager.get("/inbox?process=job_approval").get_data(as_text=True)
    assert f"/tasks/{task_id}" not in as_manager.get("/inbox?process=timesheet_approval").get_data(as_text=True)


def test_an_employee_does_not_see_manager_tasks(ctx, escalated_job, client, employee):
    log_in(client, employee.email)
    task_id = _task(ctx, escalated_job[0], "decide_escalation")["id"]
    assert f"/tasks/{task_id}" not in client.get("/inbox").get_data(as_text=True)
    # not one of the employee's customers: not found (tests/engine/test_task_scope.py has the lane refusal)
    assert client.post(f"/tasks/{task_id}", data={"decision": "approve"}).status_code == 404


def test_task_page_renders_the_enum_as_labelled_radio_inputs(ctx, escalated_job, as_manager):
    task = _task(ctx, escalated_job[0], "decide_escalation")
    page = as_manager.get(f"/tasks/{task['id']}").get_data(as_text=True)
    decision = next(f for f in task["form"] if f["id"] == "decision")
    for option in decision["options"]:
        input_id = f"field-decision-{option['id']}"
        assert re.search(rf'<input type="radio" id="{input_id}" name="decision" value="{option["id"]}"', page)
        assert f'<label for="{input_id}">{option["name"]}</label>' in page
    assert '<textarea id="field-comment" name="comment"' in page and '<label for="field-comment">' in page


def test_completing_the_task_moves_the_instance_on(ctx, escalated_job, as_manager):
    iid = escalated_job[0]
    task_id = _task(ctx, iid, "decide_escalation")["id"]
    response = as_manager.post(f"/tasks/{task_id}", data={"decision": "reject", "comment": "customer unreachable"},
                               follow_redirects=True)
    assert response.status_code == 200 and response.request.path == f"/instances/{iid}"
    assert "rejected" in response.get_data(as_text=True)
    assert get_instance(ctx, iid)["case_status"] == "rejected"
    assert any(e["actor"] == "mia@example.com" and e["kind"] == "task_completed"
               for e in get_instance(ctx, iid)["history"])


def test_an_invalid_enum_value_shows_the_form_again_and_changes_nothing(ctx, escalated_job, as_manager):
    iid = escalated_job[0]
    task_id = _task(ctx, iid, "decide_escalation")["id"]
    response = as_manager.post(f"/tasks/{task_id}", data={"decision": "maybe", "comment": "keep me"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "&#39;maybe&#39; is not one of" in page and "keep me</textarea>" in page
    assert _task(ctx, iid, "decide_escalation")["id"] == task_id
    assert get_instance(ctx, iid)["status"] == "running"


def test_a_second_completion_gets_already_decided(ctx, escalated_job, as_manager):
    task_id = _task(ctx, escalated_job[0], "decide_escalation")["id"]
    assert as_manager.post(f"/tasks/{task_id}", data={"decision": "approve"}).status_code == 302
    again = as_manager.post(f"/tasks/{task_id}", data={"decision": "reject"})
    assert again.status_code == 409 and b"Already decided" in again.data


def test_an_unknown_task_is_not_found(as_manager):
    assert as_manager.get("/tasks/999999").status_code == 404


def test_each_inbox_row_names_the_customer_the_case_what_is_asked_and_the_deadline(ctx, escalated_job, as_manager):
    page = as_manager.get("/inbox").get_data(as_text=True)
    row = page[page.index("<tbody>"):page.index("</tbody>")]
    assert "Mill House" in row and "Decide the job the customer did not review" in row
    assert "job_approval · #" not in row


def test_the_inbox_filters_by_customer(ctx, escalated_job, as_manager, manager):
    from engine.services.customers import create_customer
    other = create_customer(ctx, staff=manager, name="Zeta Offices")
    task_id = _task(ctx, escalated_job[0], "decide_escalation")["id"]
    page = as_manager.get("/inbox").get_data(as_text=True)
    mill = re.search(r'<option value="(\d+)" >Mill House</option>', page).group(1)
    assert f"/tasks/{task_id}" in as_manager.get(f"/inbox?customer={mill}").get_data(as_text=True)
    assert f"/tasks/{task_id}" not in as_manager.get(f"/inbox?customer={other['id']}").get_data(as_text=True)
    assert as_manager.get("/inbox?customer=abc").status_code == 400
