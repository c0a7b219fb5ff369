"""/processes: the list of versions, upload, download, the modeller page and its JSON endpoints (check, deploy,
dry run, scenarios), for managers and admins only; bad input is a 400 with a message and changes nothing."""

import io
import json
import re

import pytest

from engine.services.staff_auth import create_staff_user
from tests.conftest import ROOT
from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app

JOB_XML = (ROOT / "bpmn/job_approval.bpmn").read_text()
NO_TIMER = JOB_XML.replace("${remaining_period_iso}", "")  # the approval-period timer has no time set
API = "/processes/api"


def renamed(new_id: str) -> str:
    """job_approval saved under another process id (what the modeller sends after the id is edited)."""
    return JOB_XML.replace('id="job_approval"', f'id="{new_id}"').replace(
        'bpmnElement="job_approval"', f'bpmnElement="{new_id}"')


@pytest.fixture
def shipped(deploy):
    deploy("bpmn/job_approval.bpmn")


@pytest.fixture
def as_admin(client, ctx):
    admin = create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    assert log_in(client, admin.email).status_code == 302
    return client


@pytest.fixture
def as_employee(client, employee):
    assert log_in(client, employee.email).status_code == 302
    return client


def post_json(client, path: str, payload, **kwargs):
    return client.post(f"{API}{path}", data=json.dumps(payload), content_type="application/json", **kwargs)


def versions_of(client, process_id: str) -> list[str]:
    page = client.get("/processes/").get_data(as_text=True)
    section = page.partition(f'id="process-{process_id}"')[2].partition("</section>")[0]
    return re.findall(r"<tr>\s*<td>(\d+)", section)


# --- the list, upload and download ------------------------------------------------------------------------------

def test_the_list_shows_each_version_with_its_hash_and_instance_counts(as_manager, shipped):
    page = as_manager.get("/processes/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "job_approval" in text and "newest: version 1" in text
    assert all(word in text for word in ("Running", "Completed", "In error", "Open in the modeller", "Download"))
    assert re.search(r"<code title=\"[0-9a-f]{64}\">[0-9a-f]{10}</code>", text)
    assert 'href="/processes/"' in text  # the header's Processes link


def test_employees_are_refused_and_see_no_link(as_employee, shipped):
    assert 'href="/processes/"' not in as_employee.get("/inbox").get_data(as_text=True)
    for url in ("/processes/", "/processes/download?process=job_approval",
                "/processes/modeller?process=job_approval"):
        assert as_employee.get(url).status_code == 403, url
    refused = post_json(as_employee, "/check", {"xml": JOB_XML, "filename": "job_approval.bpmn"})
    assert refused.status_code == 403 and "managers" in refused.get_json()["error"]


def test_without_a_staff_login_the_pages_send_to_the_login_page(client, shipped):
    for response in (client.get("/processes/"), post_json(client, "/check", {"xml": JOB_XML})):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_uploading_a_changed_file_deploys_a_new_version(as_manager, shipped):
    changed = JOB_XML.replace('name="Review the job"', 'name="Review the job carefully"').encode()
    response = as_manager.post("/processes/upload", data={"file": (io.BytesIO(changed), "job_approval.bpmn")},
                               content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "job_approval version 2 deployed" in response.get_data(as_text=True)
    assert versions_of(as_manager, "job_approval") == ["2", "1"]


def _upload(client, data: bytes, name: str):
    return client.post("/processes/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_a_bad_file_is_refused_naming_the_element_and_nothing_is_deployed(as_manager, shipped):
    response = _upload(as_manager, NO_TIMER.encode(), "job_approval.bpmn")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Not deployed" in text and "period_expired" in text
    assert versions_of(as_manager, "job_approval") == ["1"]


@pytest.mark.parametrize("data, name, words", [
    (b"", "job_approval.bpmn", "Choose a .bpmn file"),
    (JOB_XML.encode(), "notes.txt", "not a .bpmn file"),
    (b"<definitions", "job_approval.bpmn", "job_approval.bpmn"),
])
def test_an_empty_or_wrong_upload_gets_a_message(as_manager, shipped, data, name, words):
    response = _upload(as_manager, data, name) if data else as_manager.post("/processes/upload", data={})
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert versions_of(as_manager, "job_approval") == ["1"]


def test_any_version_downloads_as_an_attachment(as_manager, shipped, deploy):
    _upload(as_manager, renamed("job_approval").replace("Review the job", "Check the job").encode(),
            "job_approval.bpmn")
    first = as_manager.get("/processes/download?process=job_approval&version=1")
    assert first.status_code == 200
    assert first.mimetype == "application/xml"
    assert first.headers["Content-Disposition"] == 'attachment; filename="job_approval.bpmn"'
    assert first.get_data(as_text=True) == JOB_XML
    newest = as_manager.get("/processes/download?process=job_approval")
    assert "Check the job" in newest.get_data(as_text=True)


@pytest.mark.parametrize("query, status, words", [
    ("", 400, "say which process"), ("?process=nope", 404, "nope"), ("?process=job_approval&version=9", 404, "9"),
    ("?process=job_approval&version=x", 400, "version: not a whole number"),
])
def test_an_unknown_version_is_named(as_manager, shipped, query, status, words):
    response = as_manager.get(f"/processes/download{query}")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


# --- the modeller page ------------------------------------------------------------------------------------------

def test_the_modeller_page_carries_topics_variables_and_its_policy(as_manager, shipped):
    response = as_manager.get("/processes/modeller?process=job_approval&version=1")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    topics = json.loads(re.search(r'data-topics="([^"]*)"', text).group(1).replace("&#34;", '"').replace(
        "&quot;", '"').replace("&#39;", "'").replace("&amp;", "&"))
    assert any(name == "notify.customer" and description for name, description in topics)
    assert "customer_id" in text  # a variable the processes receive
    assert '<script src="/static/modeller/modeller.js" defer></script>' in text
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "img-src 'self' data:" in policy
    assert "img-src 'self';" in as_manager.get("/processes/").headers["Content-Security-Policy"]


def test_the_bundle_and_its_licences_are_served(client):
    assert client.get("/static/modeller/modeller.js").status_code == 200
    assert client.get("/static/modeller/modeller.css").status_code == 200
    licences = client.get("/static/modeller/THIRD_PARTY_LICENSES.txt").get_data(as_text=True)
    assert all(name in licences for name in ("bpmn-js ", "bpmn-js-properties-panel ", "camunda-bpmn-moddle "))


# --- the JSON endpoints ------------------------------------------------------------------------------------------

def test_check_lists_the_problems_with_their_elements(as_manager):
    good = post_json(as_manager, "/check", {"xml": JOB_XML, "filename": "job_approval.bpmn"})
    assert good.status_code == 200 and good.get_json()["problems"] == []
    bad = post_json(as_manager, "/check", {"xml": NO_TIMER, "filename": "job_approval.bpmn"}).get_json()
    assert any(p["element_id"] == "period_expired" and "period_expired" in p["text"] for p in bad["problems"])


@pytest.mark.parametrize("body, words", [
    ("not json", "send a JSON object"),
    ("[1, 2]", "send a JSON object"),
    ('{"filename": "x.bpmn"}', "xml: missing"),
    ('{"xml": 5}', "xml: missing"),
    ('{"xml": "<x/>", "filename": 7}', "filename"),
])
def test_a_bad_request_body_is_a_400_with_a_message(as_manager, body, words):
    for path in ("/check", "/deploy", "/dry-run", "/scenarios/rerun"):
        response = as_manager.post(f"{API}{path}", data=body, content_type="application/json")
        assert response.status_code == 400, path
        assert words in response.get_json()["error"] or path == "/scenarios/rerun", (path, response.get_json())


def test_a_diagram_that_is_too_large_is_refused_with_a_message(as_manager):
    huge = "<x>" + "a" * (6 * 1024 * 1024) + "</x>"
    response = post_json(as_manager, "/check", {"xml": huge, "filename": "job_approval.bpmn"})
    assert response.status_code in (400, 413)
    assert "larger than" in response.get_json()["error"]


def test_xml_that_is_not_bpmn_is_a_problem_not_an_error(as_manager):
    response = post_json(as_manager, "/check", {"xml": "<definitions", "filename": "job_approval.bpmn"})
    assert response.status_code == 200 and response.get_json()["problems"]


def test_deploy_makes_a_new_process_and_says_so(as_manager, shipped):
    response = post_json(as_manager, "/deploy", {"xml": renamed("job_approval_two_step"),
                                                  "filename": "job_approval_two_step.bpmn"})
    assert response.status_code == 200
    assert response.get_json()["message"] == "job_approval_two_step version 1 deployed."
    assert versions_of(as_manager, "job_approval_two_step") == ["1"]


def test_deploy_refuses_a_broken_draft_and_stores_nothing(as_manager, shipped):
    response = post_json(as_manager, "/deploy", {"xml": NO_TIMER, "filename": "job_approval.bpmn"})
    assert response.status_code == 400
    assert any(p["element_id"] == "period_expired" for p in response.get_json()["problems"])
    assert versions_of(as_manager, "job_approval") == ["1"]


APPROVE = [{"action": "complete", "task": "review_job", "data": {"decision": "approve"}}]


def test_a_dry_run_returns_the_path_and_what_it_would_do(as_manager):
    response = post_json(as_manager, "/dry-run", {"xml": JOB_XML, "filename": "job_approval.bpmn", "steps": APPROVE})
    assert response.status_code == 200
    result = response.get_json()
    assert result["problems"] == [] and result["ended"]
    assert "review_job" in result["path"] and result["end_element"] == "job_approved"
    assert any(status["status"] == "approved" for status in result["statuses"])
    assert result["summary"]


@pytest.mark.parametrize("steps, words", [
    ({"action": "wait"}, "steps"),
    ([{"action": "fly"}], "1"),
    ([{"action": "wait", "duration": "P3D"}, {"action": "wait", "duration": "soon"}], "2"),
])
def test_bad_steps_are_named(as_manager, steps, words):
    response = post_json(as_manager, "/dry-run", {"xml": JOB_XML, "filename": "job_approval.bpmn", "steps": steps})
    assert response.status_code == 400
    assert words in response.get_json()["error"]


def test_scenarios_are_saved_listed_and_rerun_against_a_draft(as_manager, shipped):
    first = post_json(as_manager, "/dry-run", {"xml": JOB_XML, "filename": "job_approval.bpmn", "steps": APPROVE})
    saved = post_json(as_manager, "/scenarios", {"process_id": "job_approval", "name": "approve at once",
                                                  "steps": APPROVE, "expected": first.get_json()["summary"]})
    assert saved.status_code == 200 and "approve at once" in saved.get_json()["message"]
    listed = as_manager.get(f"{API}/scenarios?process=job_approval").get_json()["scenarios"]
    assert [s["name"] for s in listed] == ["approve at once"] and listed[0]["steps"][0]["task"] == "review_job"

    same = post_json(as_manager, "/scenarios/rerun", {"process_id": "job_approval", "xml": JOB_XML,
                                                       "filename": "job_approval.bpmn"}).get_json()
    assert same["sentence"] == "1 of 1 scenario still ends where they did." and same["all_same"]
    # the draft now rejects where it approved: the sentence names the scenario that changed
    swapped = JOB_XML.replace("${decision == 'approve'}", "${decision == 'SWAP'}").replace(
        "${decision == 'reject'}", "${decision == 'approve'}").replace(
        "${decision == 'SWAP'}", "${decision == 'reject'}")
    changed = post_json(as_manager, "/scenarios/rerun", {"process_id": "job_approval", "xml": swapped,
                                                          "filename": "job_approval.bpmn"}).get_json()
    assert changed["sentence"].startswith("0 of 1 scenario still end where they did; 'approve at once' now ends at ")
    assert "Job rejected" in changed["sentence"]
    assert not changed["all_same"]


def test_scenario_input_is_checked(as_manager, shipped):
    missing = post_json(as_manager, "/scenarios", {"process_id": "job_approval", "steps": APPROVE, "expected": "x"})
    assert missing.status_code == 400 and "name: missing" in missing.get_json()["error"]
    assert as_manager.get(f"{API}/scenarios").status_code == 400


def test_json_posts_need_the_csrf_token_in_a_header(ctx, manager, shipped):
    """With CSRF on (as in production): the page's token in X-CSRFToken is accepted, no token is a JSON 400."""
    client = create_app(ctx=ctx, config={"TESTING": True}).test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token})
    page = client.get("/processes/modeller?process=job_approval").get_data(as_text=True)
    header_token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    body = {"xml": JOB_XML, "filename": "job_approval.bpmn"}
    refused = post_json(client, "/check", body)
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]
    assert post_json(client, "/check", body, headers={"X-CSRFToken": header_token}).status_code == 200


def test_an_admin_deploys_and_is_pointed_to_the_settings_for_bindings(as_admin, shipped):
    assert "job_approval" in as_admin.get("/processes/").get_data(as_text=True)
    response = post_json(as_admin, "/deploy", {"xml": renamed("job_approval_two_step"),
                                                "filename": "job_approval_two_step.bpmn"})
    assert response.status_code == 200 and response.get_json()["bindings_url"] == "/settings"
