"""Separation of duties in the modeller's Signoff group, in a real browser: a manager opens the shipped job
approval, ticks who may not complete a user task, deploys, and the deployed version refuses the sender.

The two checkboxes write the task's `camunda:property name="signoff:not"` (engine/workflow/separation.py): the
value in RULES order, a hand-typed extension property kept, an emptied camunda:properties removed, one click one
undo step. Clicks drive the panel; the bpmn-js API (page.evaluate) reads the XML, undoes, and creates a bare user
task (no extension elements yet), as in test_process_modeller_journey. After the deploy, the engine runs a case
of the new version to the escalated decision and refuses it to the manager who sent the job.
"""

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.errors import NotAllowed
from engine.models import HumanTask, ProcessVersion
from engine.services import approvals, company_settings, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import add_hours
from tests.conftest import ROOT
from tests.e2e.conftest import log_in_staff, watch_page
from tests.e2e.test_process_modeller_journey import PASSWORD, SLOW, Modeller

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
SENDER = "Not the person who sent the work for approval"
PREVIOUS = "Not whoever completed the previous step"
REFUSED = "You sent this work for approval, so someone else must approve it"


def _properties(xml: str, task_id: str) -> list[tuple[str, str]] | None:
    """(name, value) of the task's own camunda:property entries; None when it has no camunda:properties."""
    task = ET.fromstring(xml.encode()).find(f".//bpmn:userTask[@id='{task_id}']", NS)
    blocks = task.findall("bpmn:extensionElements/camunda:properties", NS)
    if not blocks:
        return None
    return [(p.get("name"), p.get("value")) for block in blocks for p in block.findall("camunda:property", NS)]


def _has_form(xml: str, task_id: str) -> bool:
    task = ET.fromstring(xml.encode()).find(f".//bpmn:userTask[@id='{task_id}']", NS)
    return task.find("bpmn:extensionElements/camunda:formData", NS) is not None


class Panel(Modeller):
    def xml(self) -> str:
        return self.evaluate("async () => (await window.signoffModeler.saveXML()).xml")

    def undo(self) -> None:
        self.evaluate("() => window.signoffModeler.get('commandStack').undo()")

    def rule(self, label: str):
        return self.group("signoff").get_by_label(label, exact=True)


def test_a_manager_ticks_who_may_not_complete_a_task_and_the_deployed_version_refuses_the_sender(
        browser, live_server, live_ctx, clock):
    for name in ("job_approval", "timesheet_approval"):
        deploy_file(live_ctx, SYSTEM, (ROOT / f"bpmn/{name}.bpmn").read_bytes(), f"{name}.bpmn")
    mia = create_staff_user(live_ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    ada = create_staff_user(live_ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    problems = watch_page(page)
    log_in_staff(page, live_server, "mia@example.com", PASSWORD)
    page.goto(f"{live_server}/processes/")
    page.locator("#process-job_approval").get_by_role("link", name="Open in the modeller").click()
    expect(page.locator("#modeller[data-ready='1']")).to_be_attached(timeout=20000)
    panel = Panel(page)

    # the decision on an escalated job: a property typed by hand in "Extension properties" first
    panel.select("decide_escalation")
    expect(panel.group("signoff")).to_contain_text("Who may not complete this task")
    expect(panel.rule(SENDER)).not_to_be_checked()
    extension = panel.group("CamundaPlatform__ExtensionProperties")
    extension.locator(".bio-properties-panel-group-header .bio-properties-panel-add-entry").click()
    panel.fill("CamundaPlatform__ExtensionProperties", "decide_escalation-extensionProperty-0-name", "colour")
    panel.fill("CamundaPlatform__ExtensionProperties", "decide_escalation-extensionProperty-0-value", "blue")
    panel.rule(PREVIOUS).check()
    assert _properties(panel.xml(), "decide_escalation") == [("colour", "blue"), ("signoff:not", "previous_approver")]
    panel.rule(SENDER).check()
    assert _properties(panel.xml(), "decide_escalation") == [("colour", "blue"),
                                                            ("signoff:not", "sender,previous_approver")]
    panel.rule(PREVIOUS).uncheck()
    xml = panel.xml()
    assert _properties(xml, "decide_escalation") == [("colour", "blue"), ("signoff:not", "sender")]
    assert _has_form(xml, "decide_escalation")

    # answering the customer's question: ticked then unticked leaves no camunda:properties behind, form kept
    panel.select("answer_query")
    panel.rule(PREVIOUS).check()
    assert _properties(panel.xml(), "answer_query") == [("signoff:not", "previous_approver")]
    panel.rule(PREVIOUS).uncheck()
    xml = panel.xml()
    assert _properties(xml, "answer_query") is None and _has_form(xml, "answer_query")
    panel.undo()  # one click, one undo step: the panel shows the rule again
    expect(panel.rule(PREVIOUS)).to_be_checked()
    panel.rule(PREVIOUS).uncheck()

    # a new user task without extension elements: ticking creates them; undone with the task before the deploy
    panel.evaluate("""() => { const m = window.signoffModeler; const registry = m.get('elementRegistry');
      const shape = m.get('elementFactory').createShape({ type: 'bpmn:UserTask' });
      m.get('modeling').createShape(shape, { x: 1500, y: 640 }, registry.get('job_approval_participant'));
      m.get('selection').select(shape); }""")
    (bare,) = panel.selected()
    assert _properties(panel.xml(), bare) is None
    panel.rule(SENDER).check()
    assert _properties(panel.xml(), bare) == [("signoff:not", "sender")]
    panel.undo()
    panel.undo()
    assert panel.evaluate(f"() => !window.signoffModeler.get('elementRegistry').get('{bare}')")

    page.get_by_role("button", name="Deploy as new version").click()
    expect(page.locator("#modeller-status")).to_contain_text("job_approval version 2 deployed", timeout=SLOW)
    with live_ctx.uow() as uow:
        deployed = uow.session.scalar(select(ProcessVersion.xml).where(
            ProcessVersion.process_id == "job_approval", ProcessVersion.version == 2))
    assert _properties(deployed, "decide_escalation") == [("colour", "blue"), ("signoff:not", "sender")]
    assert _properties(deployed, "answer_query") is None

    # a job Mia sends, not reviewed in time: the escalated decision is not hers, an admin's it is
    mill = customers.create_customer(live_ctx, staff=mia, name="Mill House", contact_name="Dana Baker",
                                     contact_email="dana@millhouse.example")["id"]
    customers.set_portal_access(live_ctx, mill, True, staff=mia)
    company_settings.set_customer_policy(live_ctx, mill, staff=mia, approval_period="PT12H",
                                         period_end_action="escalate")
    job = jobs.create_job(live_ctx, mill, staff=mia, name="Window cleaning, November", manager_id=mia.id,
                          requires_customer_approval=True)["id"]
    add_hours(live_ctx, job, mia.id, date(2026, 11, 3))
    approvals.send_job_for_approval(live_ctx, job, staff=mia)
    fire_due_timers(live_ctx, clock.advance(hours=13))
    with live_ctx.uow() as uow:
        decision = uow.session.scalar(select(HumanTask).where(HumanTask.element_id == "decide_escalation",
                                                              HumanTask.status == "open"))
        assert decision.separation == "sender"
        decision_id = decision.id
    with pytest.raises(NotAllowed, match=REFUSED):
        complete_task(live_ctx, decision_id, {"decision": "approve"}, mia.actor)
    complete_task(live_ctx, decision_id, {"decision": "approve"}, ada.actor)

    # unticked again in the modeller: the rule goes, the hand-typed property stays
    panel.select("decide_escalation")
    expect(panel.rule(SENDER)).to_be_checked()
    panel.rule(SENDER).uncheck()
    assert _properties(panel.xml(), "decide_escalation") == [("colour", "blue")]
    assert problems == []
