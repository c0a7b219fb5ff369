"""`signoff process …`: each subcommand, its --json, and bad arguments (one line, exit code 2, nothing changed)."""

import json
import subprocess
import sys

import pytest

from engine import cli
from tests.conftest import ROOT

JOB = str(ROOT / "bpmn/job_approval.bpmn")
APPROVE = '[{"action": "complete", "task": "review_job", "data": {"decision": "approve"}}]'


@pytest.fixture
def signoff(database_url, monkeypatch, capsys):
    monkeypatch.setenv("SIGNOFF_DATABASE_URL", database_url)

    def run(*args: str, code: int = 0) -> str:
        try:
            returned = cli.main(list(args))
        except SystemExit as exit_:
            returned = exit_.code
        out, err = capsys.readouterr()
        assert returned == code, err
        assert "Traceback" not in err
        return out if code == 0 else err

    return run


def test_deploy_list_show_as_json(signoff):
    assert json.loads(signoff("process", "deploy", JOB, "--json")) == {
        "process_id": "job_approval", "version": 1, "created": True}
    assert "already deployed" in signoff("process", "deploy", JOB)
    listed = json.loads(signoff("process", "list", "--json"))
    assert [(p["process_id"], p["latest"], len(p["versions"])) for p in listed] == [("job_approval", 1, 1)]
    shown = json.loads(signoff("process", "show", "job_approval", "--version", "1", "--json"))
    assert shown["version"] == 1 and shown["xml"].startswith("<?xml")
    assert "job_approval version 1" in signoff("process", "show", "job_approval")
    assert "no process 'job_approval' version 7" in signoff("process", "show", "job_approval", "--version", "7",
                                                             code=1)


def test_dry_run_from_text_and_from_a_file(signoff, tmp_path):
    result = json.loads(signoff("process", "dry-run", JOB, "--steps", APPROVE, "--json"))
    assert result["end_element"] == "job_approved" and result["problems"] == []
    assert set(result) == {"problems", "path", "open_tasks", "ended", "end_element", "variables", "emails",
                           "statuses", "error", "summary"}
    steps = tmp_path / "steps.json"
    steps.write_text('[{"action": "wait", "duration": "P8D"}]')
    text = signoff("process", "dry-run", JOB, "--steps", f"@{steps}", "--data", '{"title": "Gutters"}')
    assert text.strip().splitlines()[-1] == "ends at 'Job approved automatically' (job_auto_approved) after 1 step"
    assert "Please approve: Gutters" in text
    assert json.loads(signoff("process", "list", "--json")) == []  # a dry run deploys nothing


def test_bind_and_scenarios(signoff):
    signoff("process", "deploy", JOB)
    assert json.loads(signoff("process", "bind", "job", "job_approval", "--json")) == {
        "case_type": "job", "process_id": "job_approval", "customer_id": None}
    assert json.loads(signoff("process", "scenarios", "job_approval", "--json")) == []
    assert "no scenario" in signoff("process", "scenarios", "job_approval")


@pytest.mark.parametrize(("args", "message"), [
    (("process", "dry-run", JOB, "--steps", "[{"), "--steps is not valid JSON"),
    (("process", "dry-run", JOB, "--steps", '[{"action": "fly"}]'), "step 1: action must be"),
    (("process", "dry-run", JOB, "--steps", "[]", "--data", "[1]"), "--data must be a JSON object"),
    (("process", "dry-run", "/nonexistent.bpmn", "--steps", "[]"), "FILE: cannot read /nonexistent.bpmn"),
    (("process", "bind", "invoice", "job_approval"), "case type: 'invoice'"),
    (("process", "bind", "job", "nosuch"), "no process 'nosuch' is deployed"),
    (("process", "bind", "job", "default"), "the company-wide binding needs a process"),
    (("process", "deploy", JOB, "--lanes", "Customer"), "--lanes takes LANE=ROLE pairs"),
])
def test_bad_arguments_exit_2_with_one_line(signoff, args, message):
    err = signoff(*args, code=2)
    assert message in err and len(err.strip().splitlines()) == 1
    assert json.loads(signoff("process", "list", "--json")) == []


def test_the_console_exit_code_is_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engine.cli", "process", "bind", "job", "nosuch"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={"SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "signoff process: error: job: nosuch cannot run job approvals: " \
                                    "no process 'nosuch' is deployed"
