"""The staff task page of a user task without a form: a plain Complete with a comment, nothing else accepted."""

from engine.services.customers import create_customer
from engine.services.inbox import get_instance, list_open_tasks
from engine.services.instances import start_instance


def test_a_task_without_a_form_offers_a_comment_and_takes_nothing_else_from_the_browser(ctx, deploy, manager,
                                                                                       as_manager):
    deploy("tests/fixtures/bpmn/sign_off_without_form.bpmn")
    customer_id = create_customer(ctx, staff=manager, name="Mill House")["id"]
    iid = start_instance(ctx, "sign_off", {"customer_id": customer_id, "signed_off": False})
    [task] = list_open_tasks(ctx, iid)
    page = as_manager.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert '<textarea id="field-comment" name="comment"' in page
    done = as_manager.post(f"/tasks/{task['id']}", data={"comment": "Checked on site", "signed_off": "true"})
    assert done.status_code == 302
    view = get_instance(ctx, iid)
    assert view["status"] == "completed"
    assert view["data"]["comment"] == "Checked on site"
    assert view["data"]["signed_off"] is False  # a browser cannot set a variable the page does not show
    assert [e["element_id"] for e in view["history"] if e["kind"] == "element_completed"][-1] == "end_not_signed_off"
