"""A two-customer world for the access matrix: each side has its manager, contact, employee, job, registrations
(hours, an expense with a receipt), a visit with a photo, an invoice, a journal entry, resources, a job approval
waiting for the contact and an escalated one waiting in the Manager lane, and mail in the outbox.

Side "quokka" belongs to manager Max, side "narwhal" to manager Bo; every side's names contain its marker, so
a page showing the other side's data is caught by looking for the marker.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.routing import IntegerConverter, Rule

from engine.models import Base, CustomerEmployee, OutboxMessage, Timer
from engine.services import approvals, customer_extras, customers, jobs, registrations
from engine.services.email_decisions import sign_link
from engine.services.inbox import list_open_tasks
from engine.services.instances import start_instance
from engine.services.portal_views import list_review_tasks
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import NOV, PNG, add_document, add_hours, add_visit, contact, show_overview
from tests.engine.helpers import JOB_START

PASSWORD = "correct horse battery"
LAST = {"staff.logout", "portal.logout"}  # would end the role's session for the requests after them
# which id of a side fills a URL variable, where the variable's name is not already the key
KEYS = {("staff", "task_id"): "manager_task_id", ("portal", "task_id"): "customer_task_id", ("staff", "to"): "user_id"}
TEMPLATE = "approval_request_to_customer"  # an e-mail template name for /settings/email-templates/<name>


@dataclass
class Side:
    """One customer and everything of it, by the URL variable name that holds each id."""

    marker: str
    manager_email: str
    contact_email: str
    employee_email: str
    ids: dict[str, int | str] = field(default_factory=dict)


def _side(ctx, marker: str, manager, employee) -> Side:
    side = Side(marker, manager.email, f"contact@{marker}.example", employee.email)
    cid = customers.create_customer(ctx, staff=manager, name=f"{marker.title()} Cleaning",
                                    contact_name=f"{marker.title()} Contact", contact_email=side.contact_email)["id"]
    customers.set_portal_access(ctx, cid, True, staff=manager)
    show_overview(ctx, cid)
    job = jobs.create_job(ctx, cid, staff=manager, name=f"{marker} windows", manager_id=manager.id,
                          requires_customer_approval=True)["id"]
    with ctx.uow() as uow:
        uow.session.add(CustomerEmployee(customer_id=cid, employee_id=employee.id))
        uow.commit()
    add_hours(ctx, job, employee.id, NOV)
    expense = registrations.create_registration(ctx, staff=manager, job_id=job, kind="expense", work_date=NOV,
                                                description=f"{marker} soap", employee_id=employee.id, amount="12.50",
                                                receipt=(PNG, f"{marker}.png"))["id"]
    visit, (photo,) = add_visit(ctx, cid, job, employee.id, NOV, photos=1)
    details = customers.get_customer(ctx, cid, staff=manager)
    side.ids.update(
        customer_id=cid, job_id=job, registration_id=expense, visit_id=visit, photo_id=photo,
        contact_id=details["contacts"][0]["id"], employee_id=employee.id, user_id=manager.id,
        invoice_id=add_document(ctx, cid, f"{marker}-001"), name=TEMPLATE,
        entry_id=customer_extras.add_journal_entry(ctx, cid, staff=manager, text=f"{marker} note")["id"],
        resource_id=customer_extras.add_resource_file(ctx, cid, staff=manager, title=f"{marker} plan",
                                                      data=b"%PDF-1.4 x", filename=f"{marker}.pdf")["id"],
    )
    side.ids["document_id"] = side.ids["invoice_id"]
    customer_extras.add_resource_link(ctx, cid, staff=manager, title=f"{marker} site", url="https://example.com/")
    side.ids["escalated_id"] = start_instance(ctx, "job_approval", {
        **JOB_START, "customer_id": cid, "job_id": job, "manager_id": manager.id, "title": f"{marker} escalation",
        "period_end_action": "escalate"})
    return side


def _waiting(ctx, side: Side) -> None:
    """After the escalation timers fired: the job's own approval, waiting for the contact."""
    cid, iid = side.ids["customer_id"], side.ids["escalated_id"]
    side.ids["manager_task_id"] = list_open_tasks(ctx, iid)[0]["id"]
    side.ids["instance_id"] = approvals.send_job_for_approval(ctx, side.ids["job_id"],
                                                              staff=_Staff(side.ids["user_id"], "manager"))
    side.ids["customer_task_id"] = list_review_tasks(ctx, contact(cid), cid)[0]["id"]
    with ctx.uow() as uow:
        side.ids["mail_id"] = uow.session.scalar(sa.select(sa.func.min(OutboxMessage.id)).where(
            OutboxMessage.instance_id == side.ids["instance_id"]))
        side.ids["timer_id"] = uow.session.scalar(sa.select(sa.func.min(Timer.id)).where(
            Timer.instance_id == side.ids["instance_id"]))


@dataclass(frozen=True)
class _Staff:
    id: int
    role: str
    name: str = "world builder"


def build_world(ctx, deploy, clock) -> dict[str, Side]:
    """Both sides, an admin (ada@example.com) and each side's staff; returns {"quokka": ..., "narwhal": ...}."""
    deploy("bpmn/job_approval.bpmn")
    deploy("bpmn/timesheet_approval.bpmn")
    create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    staff = {marker: (create_staff_user(ctx, f"{name.lower()}@example.com", f"{name} Manager", "manager", PASSWORD),
                      create_staff_user(ctx, f"{worker.lower()}@example.com", f"{worker} Employee", "employee",
                                        PASSWORD))
             for marker, name, worker in (("quokka", "Max", "Eli"), ("narwhal", "Bo", "Fay"))}
    world = {marker: _side(ctx, marker, *people) for marker, people in staff.items()}
    fire_due_timers(ctx, clock.advance(days=8))
    for side in world.values():
        _waiting(ctx, side)
    for mine, theirs in (("quokka", "narwhal"), ("narwhal", "quokka")):  # a signed link for the other's contact
        world[mine].ids["token"] = sign_link(ctx.settings, world[mine].ids["customer_task_id"],
                                             world[theirs].ids["contact_id"], "approve", clock() + timedelta(days=30))
    return world


def side_state(ctx, side: Side) -> dict[str, list[tuple]]:
    """Every row that belongs to the side's customer, by table: a page that changes any of it changed the side."""
    cid = side.ids["customer_id"]
    tables = Base.metadata.tables
    instance_ids = sa.select(tables["workflow_instance"].c.id).where(tables["workflow_instance"].c.customer_id == cid)
    job_ids = sa.select(tables["job"].c.id).where(tables["job"].c.customer_id == cid)
    visit_ids = sa.select(tables["visit"].c.id).where(tables["visit"].c.customer_id == cid)
    where = {"customer": tables["customer"].c.id == cid, "registration": tables["registration"].c.job_id.in_(job_ids),
             "visit_photo": tables["visit_photo"].c.visit_id.in_(visit_ids),
             "timer": tables["timer"].c.instance_id.in_(instance_ids),
             "instance_event": tables["instance_event"].c.instance_id.in_(instance_ids),
             "outbox_message": tables["outbox_message"].c.instance_id.in_(instance_ids)}
    for name, table in tables.items():
        if name not in where and "customer_id" in table.c:
            where[name] = table.c.customer_id == cid
    with ctx.db.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(sa.select(tables[name]).where(clause))), key=repr)
                for name, clause in where.items()}


def routes(app) -> list[Rule]:
    """Every route but static files."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def requests(app) -> list[tuple[Rule, str]]:
    """(route, method) for GET and POST where allowed: every GET before the POSTs' side effects, logouts last."""
    pairs = [(rule, method) for rule in routes(app) for method in sorted(rule.methods & {"GET", "POST"})]
    return sorted(pairs, key=lambda pair: (pair[0].endpoint in LAST, pair[1] == "POST", pair[0].rule))


def fill(rule: Rule, side: Side, number: int | None = None) -> str:
    """The rule's URL with each variable set to the side's id of that kind (each <int:...> to `number` if given).

    :raises LookupError: a variable the matrix does not know how to fill (teach it: Side.ids or KEYS).
    """
    blueprint = rule.endpoint.partition(".")[0]
    values = {}
    for name in sorted(rule.arguments):
        key = KEYS.get((blueprint, name), name)
        if key not in side.ids:
            raise LookupError(f"{rule.rule} ({rule.endpoint}): the access matrix cannot fill <{name}>; "
                              "add an object of that kind to tests/webapp/access_world.py")
        values[name] = side.ids[key]
        if number is not None and isinstance(rule._converters[name], IntegerConverter):
            values[name] = number
    return rule.build(values, append_unknown=False)[1]


def log_in(app, ctx, staff: str | None, contact: str | None):
    client = app.test_client()
    if staff:
        assert client.post("/login", data={"email": staff, "password": PASSWORD}).status_code == 302
    if contact:
        assert client.post("/portal/login", data={"email": contact}).status_code == 302
        with ctx.uow() as uow:
            code = uow.session.scalars(sa.select(OutboxMessage).where(
                OutboxMessage.template == "login_code_to_customer").order_by(OutboxMessage.id.desc())).first()
        assert client.post("/portal/code", data={"code": code.context["code"]}).status_code == 302
    return client
