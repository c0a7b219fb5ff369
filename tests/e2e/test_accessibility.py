"""Accessibility basics on every page of the seeded demo, in the browser: a page title and one h1, a label
(or an accessible name) for every input, select, textarea and button, and alt text on every image."""

import re
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.config import Settings
from engine.demo_seed import DEMO_LOGINS, seed_demo_company
from engine.models import Customer, HumanTask, Invoice, Job, Registration, StaffUser, Visit
from engine.services.context import open_context
from webapp import create_app

AUDIT = """() => {
  const problems = [];
  const named = el => (el.labels && el.labels.length) || el.getAttribute('aria-label')
    || el.getAttribute('aria-labelledby') || el.title;
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button'].includes(el.type)) continue;
    if (!named(el)) problems.push('unlabelled ' + el.outerHTML.slice(0, 100));
  }
  for (const b of document.querySelectorAll('button, input[type=submit]')) {
    if (!(b.textContent || b.value || '').trim() && !b.getAttribute('aria-label')) problems.push('unnamed button');
  }
  for (const img of document.querySelectorAll('img:not([alt])')) problems.push('no alt ' + img.src);
  for (const frame of document.querySelectorAll('iframe:not([title])')) problems.push('untitled iframe');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(h1 + ' h1 elements');
  if (!document.title.trim()) problems.push('no title');
  return problems;
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo company (as `make demo` seeds it) served on a free port; yields (base URL, ids to visit)."""
    folder = tmp_path_factory.mktemp("a11y")
    ctx = open_context(Settings(database_url=f"sqlite:///{folder / 'demo.db'}", upload_dir=str(folder / "uploads")))
    seed_demo_company(ctx)
    with ctx.uow() as uow:
        session = uow.session
        first = {model.__name__: session.scalar(select(model.id).order_by(model.id).limit(1))
                 for model in (Customer, Job, Registration, Visit, Invoice)}
        first["InvoiceCustomer"] = session.scalar(select(Invoice.customer_id).where(Invoice.id == first["Invoice"]))
        first["Manager"] = session.scalar(select(StaffUser.id).where(StaffUser.role == "manager").limit(1))
        first["Task"] = session.scalar(select(HumanTask.id).where(HumanTask.role == "manager").limit(1))
        first["Case"] = session.scalar(select(HumanTask.instance_id).where(HumanTask.id == first["Task"]))
        first["Portal"] = session.scalar(select(Job.customer_id).where(Job.approval_instance_id.is_not(None))
                                         .order_by(Job.id).limit(1))
    server = make_server("127.0.0.1", 0, create_app(ctx=ctx, config={"DEV_MAILBOX": True}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", first
    server.shutdown()
    thread.join(timeout=10)
    ctx.db.dispose()


def staff_pages(ids: dict) -> list[str]:
    customer, job, visit = ids["Customer"], ids["Job"], ids["Visit"]
    return [
        "/inbox", f"/tasks/{ids['Task']}", "/customers", "/customers/new", f"/customers/{customer}",
        f"/customers/{customer}/edit", f"/customers/{customer}/journal", f"/customers/{customer}/resources",
        f"/customers/{customer}/employees", f"/customers/{customer}/message", f"/customers/{customer}/qr",
        f"/customers/{customer}/invoices", f"/customers/{customer}/policy", f"/customers/{customer}/jobs/new",
        f"/customers/{customer}/account-manager", f"/customers/{customer}/invoices/new?kind=invoice", "/invoices",
        f"/customers/{ids['InvoiceCustomer']}/invoices/{ids['Invoice']}/edit",
        "/registrations", "/registrations/new?kind=hours", "/registrations/new?kind=expense",
        "/registrations/new?kind=mileage", f"/jobs/{job}", f"/jobs/{job}/edit", "/visits", "/visits/new",
        f"/visits/{visit}", "/approvals", "/settings", "/settings/email-templates",
        "/settings/email-templates/approval_request_to_customer", "/staff-users", "/staff-users/new",
        "/dev/mailbox", "/instances/", f"/instances/{ids['Case']}", "/monitor/?process=job_approval",
        "/instances/timers", "/migrations/", "/migrations/?process=job_approval", "/account/stand-ins",
        f"/staff-users/{ids['Manager']}/stand-ins",
    ]


def portal_pages(ids: dict) -> list[str]:
    return ["/portal/", "/portal/approvals", f"/portal/jobs/{ids['Job']}?kind=hours",
            f"/portal/jobs/{ids['Job']}?kind=expense", f"/portal/jobs/{ids['Job']}?kind=mileage",
            "/portal/visits", "/portal/calendar?view=month", "/portal/calendar?view=week",
            "/portal/documents?kind=invoice", "/portal/documents?kind=quote", "/portal/history"]


def audit(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, url
    return [f"{url}: {problem}" for problem in page.evaluate(AUDIT)]


def test_every_staff_page_has_labels_names_and_one_heading(page, demo):
    base, ids = demo
    assert audit(page, f"{base}/login") == []
    page.get_by_label("E-mail").fill("ada@signoff.test")
    page.get_by_label("Password").fill(DEMO_LOGINS.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/inbox$"))
    problems = [problem for path in staff_pages(ids) for problem in audit(page, base + path)]
    assert problems == [], "\n".join(problems)


def test_every_portal_page_has_labels_names_and_one_heading(page, demo):
    base, ids = demo
    assert audit(page, f"{base}/portal/login") == []
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill("ada@signoff.test")
    page.get_by_label("Password").fill(DEMO_LOGINS.password)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/customers/{ids['Portal']}")
    page.get_by_role("button", name="Open the portal as this customer (staff view)").click()
    page.wait_for_url(re.compile(r".*/portal/.*"))
    problems = [problem for path in portal_pages(ids) for problem in audit(page, base + path)]
    assert problems == [], "\n".join(problems)


def test_the_audit_reports_what_it_looks_for(page):
    page.set_content("<title>x</title><h1>a</h1><h1>b</h1><input name=q><button></button><img src=x.png>")
    problems = page.evaluate(AUDIT)
    assert len(problems) == 4 and "2 h1 elements" in problems and "unnamed button" in problems


def test_portal_pages_fit_a_phone_screen(browser, demo):
    """At 390 px wide (a common phone), no portal page scrolls sideways: tables collapse to cards."""
    base, ids = demo
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(f"{base}/login")
    phone.get_by_label("E-mail").fill("ada@signoff.test")
    phone.get_by_label("Password").fill(DEMO_LOGINS.password)
    phone.get_by_role("button", name="Log in").click()
    phone.goto(f"{base}/customers/{ids['Portal']}")
    phone.get_by_role("button", name="Open the portal as this customer (staff view)").click()
    too_wide = []
    for path in ["/portal/login", *portal_pages(ids)]:
        phone.goto(base + path)
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        if width > 390:
            too_wide.append(f"{path}: {width}px")
    context.close()
    assert too_wide == []
