"""`signoff instance list|show|migrate` and `signoff timers list`: text, --json, bad arguments (one line, exit 2)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.engine.helpers import JOB_START

JOB_FILE = str(ROOT / "bpmn/job_approval.bpmn")


@pytest.fixture
def signoff(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                                env={"SIGNOFF_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, cwd=ROOT, timeout=120)
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr
        return result

    return run


@pytest.fixture
def two_cases(signoff) -> list[str]:
    signoff("deploy", JOB_FILE)
    return [signoff("start", "job_approval", "--data", json.dumps(JOB_START)).stdout.split()[-1] for _ in range(2)]


def test_instance_list_shows_the_cases_newest_first(signoff, two_cases):
    rows = json.loads(signoff("instance", "list", "--json").stdout)
    assert [str(row["id"]) for row in rows] == two_cases[::-1]
    assert rows[0]["waiting_at"] == "Review the job"
    text = signoff("instance", "list", "--status", "running", "--process", "job_approval").stdout
    assert text.splitlines()[0].startswith(f"{two_cases[1]}\tjob_approval v1\trunning\tawaiting_customer")
    assert signoff("instance", "list", "--in-error").stdout.strip() == "no cases"


def test_instance_show_keeps_the_old_view_and_adds_the_story(signoff, two_cases):
    view = json.loads(signoff("instance", "show", two_cases[0], "--json").stdout)
    assert view["status"] == "running" and view["history"] and view["open_tasks"][0]["element_id"] == "review_job"
    assert view["story"]["timeline"][0]["text"] == "An operator (command line) started the case (version 1)"
    text = signoff("instance", "show", two_cases[0]).stdout
    assert f"instance {two_cases[0]}: job_approval v1 running (awaiting_customer)" in text
    assert "story:\n  An operator (command line) started the case (version 1) · " in text
    assert "  open: Review the job, may be done by nobody yet" in text  # customer 7 has no contacts here


def test_timers_list_shows_what_fires_when(signoff, two_cases):
    timers = json.loads(signoff("timers", "list", "--json").stdout)
    assert [(str(t["instance_id"]), t["element_name"]) for t in timers] == [
        (two_cases[0], "Reminder due"), (two_cases[1], "Reminder due"),
        (two_cases[0], "Approval period ended"), (two_cases[1], "Approval period ended")]
    line = signoff("timers", "list").stdout.splitlines()[0]
    assert f"instance {two_cases[0]}\tReminder due\treminder\tcatch-up replay" in line
    said = signoff("timers", "catch-up", two_cases[0], "reminder_due", "skip").stdout
    assert said.strip() == f"instance {two_cases[0]}: a missed reminder_due will be skipped"
    assert json.loads(signoff("timers", "list", "--json").stdout)[0]["catch_up"] == "skip"


def test_instance_migrate_previews_then_moves(signoff, two_cases, tmp_path):
    renamed = tmp_path / "job_approval.bpmn"
    renamed.write_text(open(JOB_FILE).read().replace('name="Review the job"', 'name="Check the job"'))
    signoff("deploy", str(renamed))
    dry = signoff("instance", "migrate", "job_approval", "--from", "1", "--to", "2", "--dry-run").stdout
    assert dry.splitlines() == ["2 cases waiting at Review the job will move", "dry run: nothing moved"]
    moved = signoff("instance", "migrate", "job_approval", "--from", "1", "--to", "2", "--reason", "new wording",
                    "--filter", "started_from=2000-01-01").stdout.splitlines()
    assert moved == ["2 cases waiting at Review the job moved", "moved 2 case(s) to version 2", " ".join(two_cases)]
    view = json.loads(signoff("instance", "show", two_cases[0], "--json").stdout)
    assert view["version"] == 2 and view["open_tasks"][0]["name"] == "Check the job"
    assert any(line["kind"] == "instance_migrated" for line in view["story"]["timeline"])
    again = json.loads(signoff("instance", "migrate", "job_approval", "--from", "1", "--to", "2", "--reason", "x",
                               "--json").stdout)
    assert again["moved"] == [] and again["summary"] == ["no running case of this version matches"]


@pytest.mark.parametrize(("args", "message"), [
    (("instance", "list", "--status", "asleep"), "status: 'asleep' is not one of"),
    (("instance", "list", "--customer", "seven"), "customer: 'seven' is not a number"),
    (("instance", "list", "--cursor", "nonsense"), "cursor: not a page link"),
    (("instance", "show", "abc"), "ID: 'abc' is not a number"),
    (("instance", "migrate", "job_approval", "--from", "one", "--to", "2"), "--from: 'one' is not a number"),
    (("instance", "migrate", "job_approval", "--from", "1", "--to", "1", "--dry-run"), "already on version 1"),
    (("instance", "migrate", "job_approval", "--from", "1", "--to", "2", "--filter", "x"), "--filter takes"),
    (("timers", "list", "--cursor", "nonsense"), "cursor: not a page link"),
    (("timers", "catch-up", "1", "reminder_due", "later"), "not one of replay, skip"),
])
def test_a_bad_argument_is_one_line_and_exit_status_2(signoff, args, message):
    signoff("deploy", JOB_FILE)
    result = signoff(*args, code=2)
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_what_is_not_there_is_a_clear_error_with_status_1(signoff):
    signoff("deploy", JOB_FILE)
    assert "no instance 7" in signoff("instance", "show", "7", code=1).stderr
    assert "no version 2" in signoff("instance", "migrate", "job_approval", "--from", "1", "--to", "2",
                                      "--dry-run", code=1).stderr
