"""Deploying BPMN files: versions are immutable, and every refused file names its fault and stores nothing."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import DeployError
from engine.models import ProcessVersion
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from tests.engine.helpers import instance, only_open_task

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA = (ROOT / "tests/fixtures/bpmn/camunda_style_review.bpmn").read_text(encoding="utf-8")


def mini_process(task: str, process_id: str = "mini") -> bytes:
    """start → `task` (id work, wired by flows f1/f2) → end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs_mini" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {task}
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def script_task(script: str) -> str:
    return (f'<bpmn:scriptTask id="work" name="Work" scriptFormat="python">'
            f'<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
            f'<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>')


def camunda_with(old: str, new: str) -> bytes:
    assert old in CAMUNDA, old
    return CAMUNDA.replace(old, new).encode()


def version_count(ctx) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_deploying_the_same_bytes_twice_returns_the_same_version(ctx):
    data = CAMUNDA.encode()
    [first] = deploy_file(ctx, SYSTEM, data, "camunda_style_review.bpmn")
    [again] = deploy_file(ctx, SYSTEM, data, "camunda_style_review.bpmn")
    assert (first.process_id, first.version, first.created) == ("expense_review", 1, True)
    assert (again.process_id, again.version, again.created) == ("expense_review", 1, False)
    assert version_count(ctx) == 1


def test_changed_bytes_become_version_two_and_running_instances_keep_version_one(ctx):
    [v1] = deploy_file(ctx, SYSTEM, CAMUNDA.encode(), "camunda_style_review.bpmn")
    old_iid = start_instance(ctx, "expense_review", {"customer_id": 7})
    old_task = only_open_task(ctx, old_iid, "review_expense")
    assert old_task.name == "Review expense"

    [v2] = deploy_file(ctx, SYSTEM, camunda_with('name="Review expense"', 'name="Check the expense"'),
                        "camunda_style_review.bpmn")
    assert (v1.version, v2.version, v2.created) == (1, 2, True)
    with ctx.uow() as uow:
        ids = {row.version: row.id for row in uow.session.scalars(select(ProcessVersion))}

    new_iid = start_instance(ctx, "expense_review", {"customer_id": 7})
    assert instance(ctx, old_iid).process_version_id == ids[1]
    assert instance(ctx, new_iid).process_version_id == ids[2]
    assert only_open_task(ctx, new_iid, "review_expense").name == "Check the expense"

    complete_task(ctx, old_task.id, {"decision": "approve", "amount_cents": 10})
    old = instance(ctx, old_iid)
    assert old.status == "completed" and old.process_version_id == ids[1]
    complete_task(ctx, only_open_task(ctx, new_iid, "review_expense").id, {"decision": "reject", "amount_cents": 10})
    assert instance(ctx, new_iid).status == "completed"


def test_an_unmapped_lane_is_refused_and_deploys_once_it_is_mapped(ctx):
    data = camunda_with('name="Manager"', 'name="Accounting"')
    with pytest.raises(DeployError) as refused:
        deploy_file(ctx, SYSTEM, data, "accounting.bpmn")
    message = str(refused.value)
    assert "accounting.bpmn" in message and "Accounting" in message
    assert "handle_overdue_expense" in message or "fix_expense" in message
    assert version_count(ctx) == 0
    [deployed] = deploy_file(ctx, SYSTEM, data, "accounting.bpmn", lane_roles={"Accounting": "staff"})
    assert (deployed.version, deployed.created) == (1, True)
    iid = start_instance(ctx, "expense_review", {"customer_id": 7})
    complete_task(ctx, only_open_task(ctx, iid, "review_expense").id,
                  {"decision": "rework", "amount_cents": 5})
    assert only_open_task(ctx, iid, "fix_expense").role == "staff"


def test_a_lane_mapped_to_an_unknown_role_is_refused(ctx):
    with pytest.raises(DeployError, match="auditor"):
        deploy_file(ctx, SYSTEM, CAMUNDA.encode(), "camunda_style_review.bpmn", lane_roles={"Manager": "auditor"})
    assert version_count(ctx) == 0


SERVICE_UNKNOWN = ('<bpmn:serviceTask id="work" name="Post" camunda:type="external" camunda:topic="ledger.post">'
                   '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>')

REFUSED_WITH_ELEMENT = {
    "unknown_service_topic": (mini_process(SERVICE_UNKNOWN), "work", "ledger.post"),
    "script_imports_os": (mini_process(script_task("import os\nx = os.getcwd()")), "work", None),
    "script_reaches_dunder_class": (mini_process(script_task("x = ().__class__")), "work", None),
    "garbage_timer": (camunda_with(">PT48H<", ">every now and then<"), "Event_0k2f7rw", None),
    "java_style_condition": (camunda_with("${decision == 'approve'}", "${execution.getVariable('x')}"),
                             "Flow_1h6wq2x", "execution.getVariable"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_WITH_ELEMENT))
def test_a_refused_element_is_named_with_the_file_and_nothing_is_stored(ctx, case):
    data, element, detail = REFUSED_WITH_ELEMENT[case]
    with pytest.raises(DeployError) as refused:
        deploy_file(ctx, SYSTEM, data, f"{case}.bpmn")
    message = str(refused.value)
    assert f"{case}.bpmn" in message
    assert element in message
    if detail:
        assert detail in message
    assert "\n" not in message
    assert version_count(ctx) == 0


XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="xxe" name="&xxe;" isExecutable="true"><bpmn:startEvent id="s" /></bpmn:process>
</bpmn:definitions>"""

REFUSED_FILES = {
    "no_executable_process": (camunda_with('isExecutable="true"', 'isExecutable="false"'), "executable"),
    "not_xml": (b"this is not XML at all", "XML"),
    "xxe": (XXE, "DOCTYPE"),
    "not_utf8": (CAMUNDA.replace("Expense review", "D\u00e9penses").encode("latin-1"), None),
    "schema_violation": (camunda_with('sourceRef="StartEvent_1"', ""), "'sourceRef' is required"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_FILES))
def test_a_refused_file_is_named_and_nothing_is_stored(ctx, case):
    data, detail = REFUSED_FILES[case]
    with pytest.raises(DeployError) as refused:
        deploy_file(ctx, SYSTEM, data, f"{case}.bpmn")
    message = str(refused.value)
    assert f"{case}.bpmn" in message
    if detail:
        assert detail in message
    assert "root:" not in message  # nothing of /etc/passwd leaks
    assert version_count(ctx) == 0


def test_a_refused_redeploy_leaves_the_deployed_version_alone(ctx):
    deploy_file(ctx, SYSTEM, CAMUNDA.encode(), "camunda_style_review.bpmn")
    with pytest.raises(DeployError):
        deploy_file(ctx, SYSTEM, camunda_with(">PT48H<", ">every now and then<"), "camunda_style_review.bpmn")
    assert version_count(ctx) == 1
    iid = start_instance(ctx, "expense_review", {"customer_id": 7})
    only_open_task(ctx, iid, "review_expense")
