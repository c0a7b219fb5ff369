"""The operator commands: task claim|reassign, instance retry|cancel|set, timers fire-now — JSON for scripts,
engine refusals in one line (exit 1), bad arguments in one line (exit 2), every action in the history."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.engine.ops_world import OPS_FILE


@pytest.fixture
def run(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def signoff(*args: str, code: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                                env={"SIGNOFF_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, cwd=ROOT,
                                timeout=120, input=stdin)
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr
        if code:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result

    return signoff


def as_json(result) -> dict:
    return json.loads(result.stdout)


@pytest.fixture
def case(run) -> str:
    """A case of ops_review in error (divisor 0), with two admins and a manager on file."""
    run("deploy", OPS_FILE)
    for email, name, role in (("ada@example.com", "Ada", "admin"), ("bob@example.com", "Bob", "admin"),
                              ("max@example.com", "Max", "manager")):
        run("staff", "add", email, "--name", name, "--role", role, "--password-stdin",
            stdin="correct horse battery\n")
    return run("start", "ops_review", "--data", '{"divisor": 0}').stdout.strip().splitlines()[-1]


def test_retry_set_and_retry_again_from_the_command_line(run, case):
    again = as_json(run("instance", "retry", case, "--reason", "once more", "--json"))
    assert again["status"] == "error" and "division by zero" in again["error"]
    changed = as_json(run("instance", "set", case, "divisor", "5", "--reason", "entered as 0", "--json"))
    assert changed == {"instance_id": int(case), "name": "divisor", "old": 0, "new": 5}
    assert "is running" in run("instance", "retry", case, "--reason", "fixed").stdout
    view = as_json(run("instance", "show", case, "--json"))
    kinds = [(e["kind"], e["actor"], (e["data"] or {}).get("reason")) for e in view["history"]]
    assert ("variable_set", "cli", "entered as 0") in kinds and ("instance_retried", "cli", "fixed") in kinds


def test_claim_reassign_fire_now_and_cancel(run, case):
    run("instance", "set", case, "divisor", "2", "--reason", "fix")
    run("instance", "retry", case, "--reason", "fixed")
    task = as_json(run("tasks", "--instance", case, "--json"))[0]["id"]
    claimed = as_json(run("task", "claim", str(task), "--as", "ada@example.com", "--json"))
    assert claimed["assignee_staff_id"] == 1
    refused = run("task", "reassign", str(task), "--to", "max@example.com", "--reason", "cover", code=1)
    assert "Max does not work for this case's customer" in refused.stderr
    moved = run("task", "reassign", str(task), "--to", "bob@example.com", "--reason", "Ada is away",
                "--as", "ada@example.com")
    assert "reassigned to Bob <bob@example.com>" in moved.stdout
    timer = next(t for t in as_json(run("instance", "show", case, "--json"))["timers"]
                 if t["element_id"] == "reminder_due")
    fired = as_json(run("timers", "fire-now", str(timer["id"]), "--reason", "nudge", "--json"))
    assert fired["status"] == "running" and fired["element_id"] == "reminder_due"
    assert "cancelled" in run("instance", "cancel", case, "--reason", "sent twice").stdout
    assert "is cancelled, not running" in run("instance", "cancel", case, "--reason", "again", code=1).stderr
    history = as_json(run("instance", "show", case, "--json"))["history"]
    actions = [(e["kind"], e["actor"]) for e in history if e["kind"] in
               ("task_claimed", "task_reassigned", "timer_fired_now", "instance_cancelled")]
    assert actions == [("task_claimed", "ada@example.com"), ("task_reassigned", "ada@example.com"),
                       ("timer_fired_now", "cli"), ("instance_cancelled", "cli")]


@pytest.mark.parametrize(("args", "message"), [
    (("task", "claim", "x", "--as", "ada@example.com"), "argument task_id: 'x' is not an id"),
    (("task", "claim", "1"), "the following arguments are required: --as"),
    (("task", "reassign", "1", "--to", "bob", "--reason", "r"), "argument --to: 'bob' is not an e-mail address"),
    (("task", "reassign", "1", "--to", "bob@example.com"), "the following arguments are required: --reason"),
    (("instance", "cancel", "1", "--reason", "  "), "argument --reason: say why"),
    (("instance", "set", "1", "class", "1", "--reason", "r"), "argument name: 'class' is not a variable name"),
    (("instance", "set", "1", "total", "five", "--reason", "r"), "argument value: value is not valid JSON"),
    (("instance", "retry", "0", "--reason", "r"), "argument instance_id: '0' is not an id"),
    (("timers", "fire-now", "1"), "the following arguments are required: --reason"),
])
def test_bad_arguments_are_one_line_and_exit_2(run, args, message):
    result = run(*args, code=2)
    assert message in result.stderr


def test_a_stand_in_is_named_from_the_command_line(run, case):
    named = as_json(run("staff", "stand-in", "ada@example.com", "--stand-in", "bob@example.com",
                        "--from", "2026-12-01", "--to", "2026-12-24", "--json"))
    assert (named["staff"], named["stand_in"], named["ends_on"]) == ("Ada", "Bob", "2026-12-24")
    refused = run("staff", "stand-in", "ada@example.com", "--stand-in", "bob@example.com",
                  "--from", "2026-12-24", "--to", "2026-12-01", code=1)
    assert "ends_on: 2026-12-01 is before starts_on 2026-12-24" in refused.stderr


def test_refusals_name_what_is_missing(run, case):
    assert "no task 99" in run("task", "claim", "99", "--as", "ada@example.com", code=1).stderr
    assert "no staff member nobody@example.com" in run("task", "claim", "1", "--as", "nobody@example.com",
                                                       code=1).stderr
    assert "no timer 99" in run("timers", "fire-now", "99", "--reason", "r", code=1).stderr
    assert "not in error" not in run("instance", "retry", case, "--reason", "r", "--json").stdout
