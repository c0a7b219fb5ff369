"""The process catalogue: versions with who deployed them and their instance counts in the reader's scope; the
operations and start variables a modeller offers."""

import re
from pathlib import Path

import pytest

from engine.errors import NotAllowed, NotFound
from engine.service_tasks.registry import operation_names
from engine.services.customers import create_customer
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from engine.services.process_catalog import get_version, list_processes, process_variables, service_topics
from tests.engine.helpers import only_open_task

ROOT = Path(__file__).resolve().parents[2]
SIGN_OFF = ROOT / "tests/fixtures/bpmn/sign_off_without_form.bpmn"


@pytest.fixture
def two_versions(ctx, manager_staff, admin_staff):
    """Version 1 (by the manager) with a running, a completed and a failed case of the manager's customer and a
    running case of a customer the manager does not see; version 2 (by the admin) without cases."""
    deploy_file(ctx, manager_staff.actor, SIGN_OFF.read_bytes(), "sign_off.bpmn")
    mine = create_customer(ctx, staff=manager_staff, name="Mill House")["id"]
    other = create_customer(ctx, staff=admin_staff, name="Harbourview")["id"]
    start_instance(ctx, "sign_off", {"customer_id": mine})
    done = start_instance(ctx, "sign_off", {"customer_id": mine})
    complete_task(ctx, only_open_task(ctx, done, "sign_off_task").id, {"signed_off": True})
    failed = start_instance(ctx, "sign_off", {"customer_id": mine})
    complete_task(ctx, only_open_task(ctx, failed, "sign_off_task").id, {})  # the gateway lacks signed_off
    start_instance(ctx, "sign_off", {"customer_id": other})
    changed = SIGN_OFF.read_bytes().replace(b'name="Sign off the work"', b'name="Sign off the job"')
    deploy_file(ctx, admin_staff.actor, changed, "sign_off.bpmn")


def counts(summary) -> tuple[int, int, int]:
    return summary.running, summary.completed, summary.in_error


def test_a_manager_sees_every_version_newest_first_with_the_counts_of_its_own_cases(ctx, two_versions, manager_staff):
    [process] = list_processes(ctx, manager_staff.actor)
    assert (process.process_id, process.name, process.latest) == ("sign_off", "Sign off", 2)
    newest, first = process.versions
    assert (newest.version, newest.deployed_by, counts(newest)) == (2, "alex.admin@example.com", (0, 0, 0))
    assert (first.version, first.deployed_by, counts(first)) == (1, "morgan.manager@example.com", (1, 1, 1))
    assert first.filename == "sign_off.bpmn" and len(first.bpmn_hash) == 64 and first.deployed_at is not None


def test_an_admin_counts_every_case(ctx, two_versions, admin_staff):
    summary, xml = get_version(ctx, admin_staff.actor, "sign_off", 1)
    assert counts(summary) == (2, 1, 1)
    assert 'name="Sign off the work"' in xml
    latest, latest_xml = get_version(ctx, admin_staff.actor, "sign_off")
    assert latest.version == 2 and 'name="Sign off the job"' in latest_xml


def test_an_unknown_process_or_version_is_not_found(ctx, two_versions, manager_staff):
    with pytest.raises(NotFound, match="version 9"):
        get_version(ctx, manager_staff.actor, "sign_off", 9)
    with pytest.raises(NotFound, match="nope"):
        get_version(ctx, manager_staff.actor, "nope")


def test_employees_do_not_read_the_catalogue(ctx, two_versions, employee_staff):
    with pytest.raises(NotAllowed):
        list_processes(ctx, employee_staff.actor)
    with pytest.raises(NotAllowed):
        get_version(ctx, employee_staff.actor, "sign_off")


def test_every_registered_operation_is_offered_with_a_one_line_description():
    topics = service_topics()
    assert [name for name, _ in topics] == operation_names()
    assert all(description and "\n" not in description for _, description in topics)


def test_the_start_variables_in_code_are_the_ones_bpmn_readme_documents():
    readme = (ROOT / "bpmn/README.md").read_text(encoding="utf-8")
    section = readme.split("## Process variables given at start", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section)) - {"job_approval", "timesheet_approval", "auto_approve",
                                                              "escalate", "failed", "notify.customer",
                                                              "notify.manager"}
    assert {name for name, _ in process_variables()} == documented
    assert all(description for _, description in process_variables())
