"""The command-line contract: last-line ids, JSON output, clear errors with a non-zero exit."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CAMUNDA_FILE = str(ROOT / "tests/fixtures/bpmn/camunda_style_review.bpmn")


@pytest.fixture
def signoff(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                                env={"SIGNOFF_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, cwd=ROOT,
                                timeout=120, input=stdin)
        assert (result.returncode == 0) == ok, result.stderr
        assert "Traceback" not in result.stderr
        return result

    return run


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def open_task(signoff, instance_id: str) -> dict:
    tasks = json.loads(signoff("tasks", "--instance", instance_id, "--json").stdout)
    assert len(tasks) == 1
    return tasks[0]


def test_camunda_modeler_file_runs_to_both_end_events(signoff):
    assert last_line(signoff("deploy", CAMUNDA_FILE)) == "1"
    accepted = last_line(signoff("start", "expense_review", "--data", '{"customer_id": 4}'))
    refused = last_line(signoff("start", "expense_review"))
    task = open_task(signoff, accepted)
    assert task["element_id"] == "review_expense" and task["lane"] == "Customer"
    signoff("complete", str(task["id"]), "--data", '{"decision": "rework", "amount_cents": 1200}')
    fix = open_task(signoff, accepted)
    assert fix["element_id"] == "fix_expense"
    signoff("complete", str(fix["id"]), "--data", '{"amount_cents": 1100}')
    again = open_task(signoff, accepted)
    assert again["element_id"] == "review_expense"  # looped back
    signoff("complete", str(again["id"]), "--data", '{"decision": "approve", "amount_cents": 1100}')
    signoff("complete", str(open_task(signoff, refused)["id"]), "--data",
            '{"decision": "reject", "amount_cents": 5}')
    for instance_id, end in ((accepted, "expense_accepted"), (refused, "expense_refused")):
        view = json.loads(signoff("instance", "show", instance_id, "--json").stdout)
        assert view["status"] == "completed"
        assert [e["element_id"] for e in view["history"] if e["kind"] == "element_completed"][-1] == end


def last_end(signoff, instance_id: str) -> str:
    view = json.loads(signoff("instance", "show", instance_id, "--json").stdout)
    assert view["status"] == "completed"
    return [e["element_id"] for e in view["history"] if e["kind"] == "element_completed"][-1]


def test_a_task_without_a_form_takes_variables_from_the_command_line_and_its_gateway_follows_them(signoff):
    signoff("deploy", str(ROOT / "tests/fixtures/bpmn/sign_off_without_form.bpmn"))
    declined, signed = (last_line(signoff("start", "sign_off")) for _ in range(2))
    signoff("complete", str(open_task(signoff, declined)["id"]), "--data", '{"signed_off": false}')
    signoff("complete", str(open_task(signoff, signed)["id"]), "--data", '{"signed_off": true, "note": "ok"}')
    assert last_end(signoff, declined) == "end_not_signed_off"
    assert last_end(signoff, signed) == "end_signed_off"
    assert json.loads(signoff("instance", "show", signed, "--json").stdout)["data"]["note"] == "ok"


def test_deploy_prints_one_line_per_process_of_the_file(signoff):
    lines = signoff("deploy", str(ROOT / "tests/fixtures/bpmn/two_processes.bpmn")).stdout.strip().splitlines()
    assert lines == ["intake version 1 deployed", "follow_up version 1 deployed", "1 1"]
    refused = signoff("deploy", str(ROOT / "tests/fixtures/bpmn/refusals/business_rule_task.bpmn"), ok=False)
    assert "business_rule_task.bpmn: Business rule task 'work' (Decide the discount)" in refused.stderr


def test_bare_iso_timer_fires_when_told_the_time(signoff):
    signoff("deploy", CAMUNDA_FILE)
    instance_id = last_line(signoff("start", "expense_review"))
    signoff("timers", "fire", "--now", "2099-01-01T00:00:00Z")
    assert open_task(signoff, instance_id)["element_id"] == "handle_overdue_expense"


@pytest.mark.parametrize("args, message", [
    (("start", "nope"), "no process 'nope' is deployed"),
    (("complete", "42"), "no task 42"),
    (("start", "expense_review", "--data", "{bad"), "--data is not valid JSON"),
    (("start", "expense_review", "--data", "[1]"), "must be a JSON object"),
    (("timers", "fire", "--now", "2030-01-01T00:00:00"), "needs a time zone"),
    (("deploy", "/no/such/file.bpmn"), "cannot read /no/such/file.bpmn"),
    (("deploy", CAMUNDA_FILE, "--lanes", "Customer"), "--lanes takes LANE=ROLE"),
    (("instance", "show", "7"), "no instance 7"),
    (("cancel", "7"), "no instance 7"),
    (("mail", "show", "3"), "no mail 3"),
])
def test_bad_input_gets_one_clear_message(signoff, args, message):
    signoff("deploy", CAMUNDA_FILE)
    result = signoff(*args, ok=False)
    assert message in result.stderr


def test_enum_value_outside_the_list_changes_nothing(signoff):
    signoff("deploy", CAMUNDA_FILE)
    instance_id = last_line(signoff("start", "expense_review"))
    task = open_task(signoff, instance_id)
    result = signoff("complete", str(task["id"]), "--data", '{"decision": "maybe", "amount_cents": 1}', ok=False)
    assert "'maybe' is not one of ['approve', 'reject', 'rework']" in result.stderr
    assert open_task(signoff, instance_id)["id"] == task["id"]


def test_deploy_refusal_names_file_and_element(signoff, tmp_path):
    bad = tmp_path / "bad.bpmn"
    text = (ROOT / "tests/fixtures/bpmn/camunda_style_review.bpmn").read_text()
    bad.write_text(text.replace('name="Customer"', 'name="Accounting"', 1))
    result = signoff("deploy", str(bad), ok=False)
    assert "bad.bpmn" in result.stderr and "'Accounting' is not mapped" in result.stderr
    assert last_line(signoff("deploy", str(bad), "--lanes", "Accounting=customer")) == "1"


JOB = ('{"customer_id": 1, "job_id": 9, "manager_id": 2, "title": "Windows", "approval_period": "P7D", '
       '"reminder_interval": "P2D", "period_end_action": "auto_approve", "minimum_resume_period": "P1D"}')
HOURS = ('{"customer_id": 1, "registration_ids": [4, 5], "period_start": "2026-11-01", "period_end": "2026-11-30", '
         '"manager_id": 2, "title": "November", "approval_period": "P7D", "reminder_interval": "P2D", '
         '"period_end_action": "escalate", "minimum_resume_period": "P1D"}')


def _status(signoff, instance_id: str) -> tuple[str, str]:
    view = json.loads(signoff("instance", "show", instance_id, "--json").stdout)
    return view["status"], view["case_status"]


def test_shipped_job_approval_query_then_approve_and_expiry_from_the_cli(signoff):
    signoff("deploy", str(ROOT / "bpmn/job_approval.bpmn"))
    decided = last_line(signoff("start", "job_approval", "--data", JOB))
    for data in ('{"decision": "query", "comment": "Inside too?"}', '{"answer": "Yes"}', '{"decision": "approve"}'):
        signoff("complete", str(open_task(signoff, decided)["id"]), "--data", data)
    assert _status(signoff, decided) == ("completed", "approved")
    expired = last_line(signoff("start", "job_approval", "--data", JOB))
    signoff("timers", "fire", "--now", "2099-01-01T00:00:00Z")
    assert _status(signoff, expired) == ("completed", "expired_auto_approved")


def test_complete_refuses_a_query_without_a_comment(signoff):
    signoff("deploy", str(ROOT / "bpmn/job_approval.bpmn"))
    started = last_line(signoff("start", "job_approval", "--data", JOB))
    task = open_task(signoff, started)
    refused = signoff("complete", str(task["id"]), "--data", '{"decision": "query"}', ok=False)
    assert "comment: required when decision is query" in refused.stderr
    assert open_task(signoff, started)["id"] == task["id"]


def test_shipped_timesheet_approval_escalates_and_is_rejected_from_the_cli(signoff):
    signoff("deploy", str(ROOT / "bpmn/timesheet_approval.bpmn"))
    instance_id = last_line(signoff("start", "timesheet_approval", "--data", HOURS))
    assert open_task(signoff, instance_id)["element_id"] == "review_hours"
    signoff("timers", "fire", "--now", "2099-01-01T00:00:00Z")
    escalation = open_task(signoff, instance_id)
    assert escalation["element_id"] == "decide_escalation" and escalation["lane"] == "Manager"
    signoff("complete", str(escalation["id"]), "--data", '{"decision": "reject", "comment": "no answer"}')
    assert _status(signoff, instance_id) == ("completed", "rejected")


def test_staff_add_creates_an_account_and_refuses_a_short_password(signoff):
    created = signoff("staff", "add", "mia@example.com", "--name", "Mia Manager", "--role", "manager",
                      "--password-stdin", stdin="correct horse battery\n")
    assert last_line(created).isdigit()
    refused = signoff("staff", "add", "eli@example.com", "--name", "Eli", "--role", "employee",
                      "--password-stdin", stdin="short\n", ok=False)
    assert "password: at least 12 characters" in refused.stderr
    taken = signoff("staff", "add", "mia@example.com", "--name", "Mia", "--role", "manager",
                    "--password-stdin", stdin="correct horse battery\n", ok=False)
    assert "already used" in taken.stderr


def test_demo_execs_the_demo_server_and_keeps_the_walkthrough_as_an_option(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engine.cli", "demo"], capture_output=True, text=True, cwd=ROOT,
                            env={"SIGNOFF_VAR_DIR": str(tmp_path), "SIGNOFF_PORT": "abc", "PATH": "/usr/bin:/bin"},
                            timeout=60)
    assert result.returncode == 1  # webapp.demo answered: the exec happened
    assert "SIGNOFF_PORT must be a port number" in result.stderr and "Traceback" not in result.stderr
    usage = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "--help"], capture_output=True, text=True,
                           cwd=ROOT, timeout=60)
    assert "--walkthrough" in usage.stdout


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SIGNOFF_DATABASE_URL", "nosuchdb://x", "SIGNOFF_DATABASE_URL: nosuchdb://x is not a database URL"),
    ("SIGNOFF_DATABASE_URL", "postgresql+nosuchdriver://u:secret@h/d", "(a URL with credentials)"),
    ("SIGNOFF_TIMEZONE", "Mars/Base", "SIGNOFF_TIMEZONE: unknown time zone 'Mars/Base'"),
])
def test_a_bad_setting_is_named_without_a_traceback(variable, value, message):
    env = {"SIGNOFF_DATABASE_URL": "sqlite:////nonexistent/never-created.db", "PATH": "/usr/bin:/bin", variable: value}
    result = subprocess.run([sys.executable, "-m", "engine.cli", "tasks"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
