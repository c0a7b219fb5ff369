"""Issue 11's Done-when in a real browser: a manager opens the shipped job approval in the modeller, adds a form
field to the customer's review and a second approval step, checks it (a broken condition is marked on the diagram
and its message selects it), dry-runs scenarios, deploys it as a new process, binds it to one customer, and that
customer's contact sees the new field in the portal. No console error and no CSP violation on the modeller page.

Driven by clicks: the links and buttons, the properties panel (the new form field, names and ids, the condition,
the process id), the palette (space tool, exclusive gateway dropped on the Approve flow, which splits it), the
context pad (append a task, replace it by a user task, connect it), the dry-run panel, the bindings select and
the portal. By the bpmn-js API (page.evaluate), where clicks are impractical: selecting a sequence flow or the
pool (thin targets at fit-to-window zoom; the click on the pool's band works but its position depends on zoom),
and setting the viewbox so the Approve flow is in view. The setup (accounts, customer, job, the shipped
deployment) and sending the job go through engine services.

The second approval is for jobs whose expenses are over 500 (`expenses_total`, a start variable every approval
gets, see bpmn/README.md); binding refuses a process that reads variables Signoff does not send.
"""

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import OutboxMessage
from engine.services import approvals, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.staff_auth import create_staff_user
from tests.approval_fixtures import add_hours
from tests.conftest import ROOT
from tests.e2e.conftest import log_in_staff, watch_page

PASSWORD = "correct horse battery"
CONTACT = "dana@millhouse.example"
NEW_ID = "job_approval_two_step"
REGISTRY = "window.signoffModeler.get('elementRegistry')"
SLOW = 30_000  # ms: a dry run or a deploy on a busy two-core machine
SIGNED_CONDITION = "${expenses_total > 500}"


class Modeller:
    """The modeller page's parts a test drives: the properties panel, selection, the canvas."""

    def __init__(self, page):
        self.page = page

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def center(self, selector: str) -> tuple[float, float]:
        box = self.page.locator(selector).bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def selected(self) -> list[str]:
        return self.evaluate("() => window.signoffModeler.get('selection').get().map(e => e.id)")

    def group(self, group_id: str):
        """A properties-panel group, opened if it is closed (the panel remembers closed groups)."""
        node = self.page.locator(f"[data-group-id='group-{group_id}']")
        opened = ":scope > .bio-properties-panel-group-entries.open, :scope > .bio-properties-panel-list.open"
        if not node.locator(opened).count():
            node.locator(".bio-properties-panel-group-header").click()
        return node

    def fill(self, group_id: str, input_id: str, value: str) -> None:
        """Type into a panel field, then wait out the panel's input debounce (300 ms) so the model has it."""
        self.group(group_id).locator(f"#bio-properties-panel-{input_id}").fill(value)
        self.page.wait_for_timeout(400)

    def rename(self, element_id: str, name: str) -> None:
        """Give the selected element an id and a name in the panel's General group."""
        self.fill("general", "id", element_id)
        self.page.wait_for_function(f"(id) => !!{REGISTRY}.get(id)", arg=element_id)
        self.fill("general", "name", name)

    def select(self, element_id: str, id_field: str = "id") -> None:
        """Select by the bpmn-js API (see the module docstring), and wait until the panel shows the element."""
        self.evaluate("() => document.activeElement && document.activeElement.blur()")
        self.evaluate("(id) => { const m = window.signoffModeler; "
                      "m.get('selection').select(m.get('elementRegistry').get(id)); }", element_id)
        expect(self.group("general").locator(f"#bio-properties-panel-{id_field}")).to_have_value(element_id)

    def flows(self, touching: str) -> list[tuple[str, str, str]]:
        return [tuple(flow) for flow in self.evaluate(
            f"(id) => {REGISTRY}.filter(e => e.type === 'bpmn:SequenceFlow' && (e.source.id === id || "
            "e.target.id === id)).map(e => [e.id, e.source.id, e.target.id])", touching)]

    def click_at(self, x: float, y: float) -> None:
        self.page.mouse.move(x - 30, y - 10, steps=4)
        self.page.mouse.move(x, y, steps=4)
        self.page.mouse.down()
        self.page.mouse.up()


def _login_code(ctx, email: str) -> str:
    """The one-time code of the newest login mail to `email` (what the contact reads in its mailbox)."""
    with ctx.uow() as uow:
        mail = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "login_code_to_customer", OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())).first()
        return mail.context["code"]


def _setup(ctx):
    """Mia (manager) with two customers, each with a job with hours; the shipped processes deployed."""
    for name in ("job_approval", "timesheet_approval"):
        deploy_file(ctx, SYSTEM, (ROOT / f"bpmn/{name}.bpmn").read_bytes(), f"{name}.bpmn")
    mia = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    mill = customers.create_customer(ctx, staff=mia, name="Mill House", contact_name="Dana Baker",
                                     contact_email=CONTACT)["id"]
    customers.set_portal_access(ctx, mill, True, staff=mia)
    job = jobs.create_job(ctx, mill, staff=mia, name="Window cleaning, November", manager_id=mia.id,
                          requires_customer_approval=True)["id"]
    add_hours(ctx, job, mia.id, date(2026, 11, 3))
    return mia, mill, job


def _add_the_form_field(page, modeller: Modeller) -> None:
    page.click("[data-element-id='review_job']")
    fields = modeller.group("CamundaPlatform__FormData")
    fields.locator(".bio-properties-panel-group-header .bio-properties-panel-add-entry").click()
    modeller.fill("CamundaPlatform__FormData", "review_job-formField-2-formFieldID", "site_tidy")
    modeller.fill("CamundaPlatform__FormData", "review_job-formField-2-formFieldLabel", "Was the site left tidy?")
    fields.locator("#bio-properties-panel-review_job-formField-2-formFieldType").select_option("boolean")


def _add_the_second_approval(page, modeller: Modeller) -> tuple[str, str]:
    """Space tool, a gateway dropped on the Approve flow, a user task appended and connected; returns the
    (gateway → second approval, gateway → mark approved) flow ids."""
    modeller.evaluate("""() => { const c = window.signoffModeler.get('canvas');
      const box = c.getContainer().getBoundingClientRect();
      c.viewbox({x: 1420 - box.width / 2, y: 300 - box.height / 2, width: box.width, height: box.height}); }""")
    page.click(".djs-palette .entry[data-action='space-tool']")  # make room right of "Decision?"
    x, y = modeller.center("[data-element-id='decision_gateway']")
    page.mouse.move(x + 45, y - 120)
    page.mouse.down()
    page.mouse.move(x + 345, y - 120, steps=8)
    page.mouse.up()
    page.click(".djs-palette .entry[data-action='create.exclusive-gateway']")
    box = page.locator("[data-element-id='decision_gateway_to_mark_approved'] .djs-visual > path").bounding_box()
    modeller.click_at(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)  # past the flow's label
    (gateway,) = modeller.selected()
    page.click(".djs-context-pad .entry[data-action='append.append-task']")
    page.click(".djs-context-pad .entry[data-action='replace']")
    page.click(".djs-popup .entry[data-id='replace-with-user-task']")
    (task,) = modeller.selected()
    modeller.rename("second_approval", "Manager's second approval")
    modeller.select("second_approval")  # back from the panel to the canvas: its context pad
    page.click(".djs-context-pad .entry[data-action='connect']")
    modeller.click_at(*modeller.center("[data-element-id='mark_approved'] .djs-visual > rect"))
    assert task != "second_approval"
    modeller.select(gateway)
    modeller.rename("expenses_gateway", "Expenses over 500?")
    flows = modeller.flows("expenses_gateway")
    assert ("decision_gateway_to_mark_approved", "decision_gateway", "expenses_gateway") in flows
    (second,) = [f for f, source, target in flows if source == "expenses_gateway" and target == "second_approval"]
    (direct,) = [f for f, source, target in flows if source == "expenses_gateway" and target == "mark_approved"]
    assert any(s == "second_approval" and t == "mark_approved" for _f, s, t in modeller.flows("second_approval"))
    return second, direct


def _condition(modeller: Modeller, flow: str, expression: str) -> None:
    modeller.select(flow)
    modeller.group("CamundaPlatform__Condition").locator("#bio-properties-panel-conditionType").select_option(
        "expression")
    modeller.fill("CamundaPlatform__Condition", "conditionExpression", expression)


def _dry_run(page, steps: list[tuple[str, str]], start: str = "") -> None:
    """Build the scenario in the panel: ("review_job", "decision=approve") completes a task, ("wait", "P3D")."""
    for task, values in steps:
        page.select_option("#dryrun-action", "complete")
        page.click("#dryrun-task")  # the list is refreshed from the diagram on focus
        page.select_option("#dryrun-task", task)
        page.fill("#dryrun-data", values)
        page.click("#dryrun-add")
    page.fill("#dryrun-start", start)
    page.click("#dryrun-run")
    expect(page.locator("#dryrun-status")).to_have_text("Dry run done: nothing was stored.", timeout=SLOW)


def _clear_steps(page) -> None:
    while page.locator("#dryrun-steps li").count():
        page.locator("#dryrun-steps li button").first.click()


def test_a_manager_models_checks_dry_runs_deploys_and_binds_a_two_step_job_approval(
        browser, live_server, live_ctx, clock):
    mia, mill, job = _setup(live_ctx)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = watch_page(page)
    log_in_staff(page, live_server, "mia@example.com", PASSWORD)
    page.get_by_role("link", name="Processes", exact=True).click()
    expect(page).to_have_url(f"{live_server}/processes/")
    page.locator("#process-job_approval").get_by_role("link", name="Open in the modeller").click()
    expect(page.locator("#modeller[data-ready='1']")).to_be_attached(timeout=20000)
    expect(page.locator("#modeller-status")).to_have_text("Diagram loaded.")
    modeller = Modeller(page)

    # the Signoff group: a service task is offered only the registered topics, with their descriptions
    page.click("[data-element-id='request_approval']")
    topics = modeller.group("signoff").locator("select").evaluate("s => [...s.options].map(o => o.value)")
    assert topics == ["", "case.set_status", "notify.customer", "notify.manager"]
    expect(modeller.group("signoff")).to_contain_text("customer_emails")

    _add_the_form_field(page, modeller)
    second, direct = _add_the_second_approval(page, modeller)

    # a broken condition: Check marks the flow on the diagram, and its message selects it
    _condition(modeller, second, "${expenses_total >}")
    _condition(modeller, direct, "${expenses_total <= 500}")
    page.get_by_role("button", name="Check").click()
    problem = page.locator(f"#modeller-problems button[data-element-id='{second}']")
    expect(problem).to_contain_text("is not an expression Signoff can evaluate", timeout=SLOW)
    expect(page.locator(f".djs-element.signoff-problem[data-element-id='{second}']")).to_be_attached()
    expect(page.locator(".signoff-problem-badge")).to_have_count(1)
    modeller.select("review_job")
    problem.click()
    assert modeller.selected() == [second]
    _condition(modeller, second, SIGNED_CONDITION)
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#modeller-status")).to_have_text("No problems: this diagram can be deployed.", timeout=SLOW)
    expect(page.locator(".djs-element.signoff-problem")).to_have_count(0)

    # save it as another process: the pool's Process ID in the panel
    modeller.select("job_approval_participant")
    modeller.fill("general", "processId", NEW_ID)
    modeller.fill("general", "processName", "Job approval with a second approval")

    # two dry runs: a job with 750 of expenses takes the second approval; a rejection ends at once
    _dry_run(page, [("review_job", "decision=approve\nsite_tidy=true"), ("second_approval", "")],
             start='{"expenses_total": 750}')
    expect(page.locator(".dryrun-summary")).to_contain_text("Job approved")
    assert page.locator(".djs-element.signoff-path[data-element-id='second_approval']").count() == 1
    expect(page.locator("#dryrun-result")).to_contain_text("approved")  # the case status set
    expect(page.locator("#dryrun-result")).to_contain_text("approval_request")  # the e-mail to the customer
    page.fill("#scenario-name", "large expenses")  # kept with its start data, for the re-run below
    page.click("#scenario-save")
    expect(page.locator("#dryrun-status")).to_have_text(f"Scenario 'large expenses' saved with {NEW_ID}.")
    _clear_steps(page)
    _dry_run(page, [("review_job", "decision=reject\ncomment=Windows still dirty")])
    expect(page.locator(".dryrun-summary")).to_contain_text("Job rejected")
    assert page.locator(".djs-element.signoff-path[data-element-id='second_approval']").count() == 0
    assert page.locator(".djs-element.signoff-path[data-element-id='review_job']").count() == 1

    # deploy as a new process, then keep the rejection scenario with it too and re-run both
    page.get_by_role("button", name="Deploy as new version").click()
    expect(page.locator("#modeller-status")).to_contain_text(f"{NEW_ID} version 1 deployed", timeout=SLOW)
    page.fill("#scenario-name", "customer rejects")
    page.click("#scenario-save")
    expect(page.locator("#dryrun-status")).to_have_text(f"Scenario 'customer rejects' saved with {NEW_ID}.")
    expect(page.locator("#scenario-list")).to_contain_text("customer rejects")
    expect(page.locator("#scenario-list")).to_contain_text('(start: {"expenses_total":750})')
    page.click("#scenario-rerun")
    expect(page.locator("#scenario-rerun-result")).to_have_text("2 of 2 scenarios still end where they did.",
                                                                timeout=SLOW)
    assert problems == []

    page.get_by_role("link", name="All processes").click()
    expect(page.locator(f"#process-{NEW_ID}")).to_contain_text("newest: version 1")

    # bind it to Mill House on its policy page, send the job, and the contact sees the new field
    page.goto(f"{live_server}/customers/{mill}/policy")
    page.get_by_label("Job approvals run").select_option(NEW_ID)
    page.get_by_role("button", name="Save processes").click()
    expect(page.get_by_label("Job approvals run")).to_have_value(NEW_ID)
    approvals.send_job_for_approval(live_ctx, job, staff=mia)
    portal = browser.new_page()
    portal.goto(f"{live_server}/portal/login")
    portal.get_by_label("Your e-mail address").fill(CONTACT)
    portal.get_by_role("button", name="Send me a code").click()
    portal.get_by_label("Login code").fill(_login_code(live_ctx, CONTACT))
    portal.get_by_role("button", name="Log in").click()
    portal.get_by_role("link", name="Review and approve").click()
    portal.get_by_text("Decide…").click()  # a review with fields beyond the decision folds out its form
    expect(portal.get_by_label("Was the site left tidy?")).to_be_visible()
    context.close()

