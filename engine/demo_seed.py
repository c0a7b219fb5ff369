"""A realistic demo company for `make demo`: staff, customers with contacts, jobs, a month of work, visits
with photos, invoices and quotes, and approvals in several states, so every staff page has something to show.

Customers, portal access, staff accounts and approvals go through the services (so invitations and approval
mails are queued as in real use); the rest is inserted with the ORM, one transaction per step.
"""

import dataclasses
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from engine.config import PROJECT_ROOT
from engine.demo_files import make_pdf, make_png
from engine.models import (
    CompanySettings,
    Customer,
    CustomerEmployee,
    CustomerResource,
    Invoice,
    Job,
    JournalEntry,
    Registration,
    StaffUser,
    Visit,
    VisitPhoto,
)
from engine.services.approvals import send_hours_for_approval, send_job_for_approval
from engine.services.context import SYSTEM, Actor, Context
from engine.services.customer_contact import set_approvers
from engine.services.customers import add_contact, create_customer, get_customer, set_portal_access
from engine.services.deployments import deploy_file
from engine.services.inbox import list_open_tasks
from engine.services.instances import complete_task
from engine.services.staff_auth import StaffView, create_staff_user
from engine.storage import IMAGE, PDF, RECEIPT

DEMO_PASSWORD = "signoff-demo-2026"
# (key, e-mail, name, role, may send for approval)
STAFF = [("ada", "ada@signoff.test", "Ada Lovelace", "admin", False),
         ("max", "max@signoff.test", "Max Bakker", "manager", False),
         ("mia", "mia@signoff.test", "Mia Jansen", "manager", False),
         ("eli", "eli@signoff.test", "Eli Visser", "employee", True),
         ("noor", "noor@signoff.test", "Noor de Vries", "employee", False),
         ("sam", "sam@signoff.test", "Sam Peters", "employee", False)]
# a facility manager who looks after two customers: one portal login, a switcher between them
SHARED_CONTACT = ("Femke Dijkstra", "femke@facility-partners.example", "+31 6 4567 8901")
# (key, name, billing address, website, account manager, employees, portal, [(contact, e-mail, mobile)])
CUSTOMERS = [
    ("harbour", "Harbour View Dental", "Kade 12\n1013 AB Amsterdam", "https://harbourview-dental.example", "max",
     ("eli", "noor"), True, [("Hanna Smit", "hanna@harbourview-dental.example", "+31 6 1234 5678"),
                             ("Bram Kok", "bram@harbourview-dental.example", "")]),
    ("greenleaf", "Greenleaf Office Park", "Parklaan 40\n3511 CV Utrecht", "https://greenleaf-offices.example", "mia",
     ("sam", "eli"), True, [("Olivia Groen", "olivia@greenleaf-offices.example", "+31 6 2345 6789"), SHARED_CONTACT]),
    ("crust", "Golden Crust Bakery", "Bakkerstraat 3\n2011 HA Haarlem", "https://goldencrust.example", "max",
     ("noor",), True, [("Pieter de Bakker", "pieter@goldencrust.example", ""),
                      ("Lotte Meel", "lotte@goldencrust.example", "+31 6 3456 7890"), SHARED_CONTACT]),
    # no portal access yet, and Max's: the README's first tour grants it (on any day of the month)
    ("library", "Northside Community Library", "Noordplein 7\n9711 LE Groningen", "https://northside-library.example",
     "max", ("sam",), False, [("Ruben Boek", "ruben@northside-library.example", "")]),
]
COMMENTS = {"harbour": "Keys at reception; the practice opens at 8:00.",
            "greenleaf": "Access badge from the facility desk, building B.",
            "crust": "Clean the kitchen only after the last bake (after 14:00).",
            "library": "New customer: portal access still to be granted."}
# (key, customer, name, manager, customer approves, employees, descriptions)
JOBS = [
    ("weekly", "harbour", "Weekly practice cleaning", "max", True, ("eli", "noor"),
     ("Cleaned treatment rooms 1-4 and disinfected chairs", "Waiting room, reception and toilets",
      "Sterilisation room deep clean")),
    ("windows", "harbour", "Window cleaning, autumn round", "max", True, ("eli",),
     ("Outside windows, ground floor", "Inside windows and frames", "Skylights with the telescopic pole")),
    ("office", "greenleaf", "Office cleaning, building B", "mia", True, ("sam", "eli"),
     ("Floors 1-3: desks, bins and kitchens", "Meeting rooms and the canteen", "Restocked washrooms, cleaned lifts")),
    ("carpet", "greenleaf", "Carpet deep clean, 2nd floor", "mia", True, ("sam",),
     ("Extraction cleaning of the open-plan area", "Spot treatment of coffee stains", "Moved furniture back")),
    ("kitchen", "crust", "Kitchen hygiene service", "max", True, ("noor",),
     ("Degreased ovens and extraction hood", "Cleaned proofing room and cold store", "HACCP checklist round")),
    ("floors", "library", "Floor maintenance", "mia", False, ("sam",),
     ("Machine scrubbed the reading room", "Polished the entrance hall", "Vacuumed the children's corner")),
]
# Jobs sent for approval days ago, so the job approval's diagram shows where cases wait and how long reviews take:
# (customer, job name, employee, description, contact, days ago sent, hours the review took, decision, comment).
# Max's two questions wait at "Answer the customer's question".
HISTORY = [
    ("harbour", "Lobby floor polishing", "eli", "Polished the lobby floor", "Bram Kok", 24, 6, "approve", ""),
    ("crust", "Gutter and skylight cleaning", "noor", "Cleaned the gutters and skylights", "Pieter de Bakker", 20,
     30, "approve", "Thanks, much better."),
    ("harbour", "Sterilisation room audit clean", "noor", "Audit clean of the sterilisation room", "Hanna Smit",
     15, 52, "approve", ""),
    ("crust", "Flour store deep clean", "noor", "Emptied and deep cleaned the flour store", "Lotte Meel", 11, 98,
     "approve", "Took a while to check, all good."),
    ("harbour", "X-ray room cleaning", "eli", "Cleaned the X-ray room windows", "Hanna Smit", 3, 20, "query",
     "Inside too?"),
    ("crust", "Deep clean after the renovation", "noor", "Deep clean of the new shop floor", "Lotte Meel", 2, 26,
     "query", "Is the cellar included?"),
]
COLOURS = [(40, 110, 160), (70, 140, 80), (150, 90, 50), (120, 80, 150), (60, 60, 60)]


@dataclass(frozen=True)
class DemoLogins:
    """What `make demo` prints: staff (e-mail, name, role), the shared password, portal contacts (e-mail, customer)."""

    password: str
    staff: tuple[tuple[str, str, str], ...]
    contacts: tuple[tuple[str, str], ...]


DEMO_LOGINS = DemoLogins(
    DEMO_PASSWORD, tuple((email, name, role) for _, email, name, role, _ in STAFF),
    tuple((contact[1], name) for _, name, *_, portal, contacts in CUSTOMERS if portal for contact in contacts))


def seed_demo_company(ctx: Context) -> DemoLogins | None:
    """Fill an empty database with the demo company; does nothing (None) when any staff account exists."""
    with ctx.uow() as uow:
        if uow.session.scalar(select(StaffUser.id).limit(1)) is not None:
            return None
    for name in ("job_approval.bpmn", "timesheet_approval.bpmn"):
        deploy_file(ctx, SYSTEM, (PROJECT_ROOT / "bpmn" / name).read_bytes(), name)
    staff = {key: create_staff_user(ctx, email, name, role, DEMO_PASSWORD, may_send)
             for key, email, name, role, may_send in STAFF}
    admin = staff["ada"]
    customers = _customers(ctx, admin, staff)
    jobs = _jobs(ctx, customers, staff)
    today = ctx.clock().date()
    rng = random.Random(2026)
    _work(ctx, rng, today, jobs, staff)
    _visits(ctx, rng, [customers["harbour"], customers["greenleaf"]])
    _finished_visit(ctx, customers["harbour"], jobs["windows"], staff["eli"])
    _documents(ctx, rng, today, customers, staff)
    _approvals(ctx, admin, today, customers, jobs)
    _history(ctx, admin, customers, staff)
    return DEMO_LOGINS


def _customers(ctx: Context, admin: StaffView, staff: dict[str, StaffView]) -> dict[str, int]:
    ids = {}
    for key, name, address, website, manager, employees, portal, contacts in CUSTOMERS:
        first, *others = contacts
        created = create_customer(ctx, staff=admin, name=name, billing_address=address, website=website,
                                  comment=COMMENTS[key], contact_name=first[0], contact_email=first[1],
                                  contact_mobile=first[2])
        for contact_name, email, mobile in others:
            add_contact(ctx, created["id"], staff=admin, name=contact_name, email=email, mobile=mobile)
        ids[key] = created["id"]
        with ctx.uow() as uow:
            customer = uow.session.get(Customer, created["id"])
            customer.account_manager_id = staff[manager].id
            customer.show_hours_overview = portal
            if key == "greenleaf":  # a per-customer policy override: shorter period, escalate to the manager
                customer.approval_period, customer.reminder_interval, customer.period_end_action = "P5D", "P1D", \
                    "escalate"
            uow.session.add_all(CustomerEmployee(customer_id=created["id"], employee_id=staff[e].id)
                                for e in employees)
            uow.commit()
        if portal:  # queues an invitation e-mail to each contact
            set_portal_access(ctx, created["id"], True, staff=admin)
        if key == "harbour":  # both contacts named approvers: each gets the requests and may decide
            set_approvers(ctx, created["id"], [c["id"] for c in get_customer(ctx, created["id"], staff=admin)
                                               ["contacts"]], staff=admin)
    with ctx.uow() as uow:
        if uow.session.get(CompanySettings, 1) is None:
            uow.session.add(CompanySettings(id=1, approval_period="P7D", reminder_interval="P2D"))
        uow.commit()
    return ids


def _jobs(ctx: Context, customers: dict[str, int], staff: dict[str, StaffView]) -> dict[str, Job]:
    today, now = ctx.clock().date(), ctx.clock()
    with ctx.uow() as uow:
        jobs = {key: Job(customer_id=customers[customer], manager_id=staff[manager].id, name=name,
                         period_start=today - timedelta(days=45), period_end=today + timedelta(days=60),
                         requires_customer_approval=approves, approval_status="draft", created_at=now)
                for key, customer, name, manager, approves, *_ in JOBS}
        uow.session.add_all(jobs.values())
        uow.commit()
    return jobs


def _work(ctx: Context, rng: random.Random, today: date, jobs: dict[str, Job], staff: dict[str, StaffView]) -> None:
    """Hours on every weekday of the last 30 days (up to yesterday), a few expenses and trips."""
    now = ctx.clock()
    plans = {key: (employees, texts) for key, _, _, _, _, employees, texts in JOBS}
    rows = []
    for offset in range(30, 0, -1):
        day = today - timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for employee in ("eli", "noor", "sam"):
            job_key = rng.choice([key for key, (people, _) in plans.items() if employee in people])
            minutes = rng.choice(range(120, 481, 30))
            start = time(rng.choice((7, 8, 9, 13)), rng.choice((0, 30)))
            end_dt = datetime.combine(day, start) + timedelta(minutes=minutes)
            rows.append(Registration(job_id=jobs[job_key].id, employee_id=staff[employee].id, kind="hours",
                                     work_date=day, description=rng.choice(plans[job_key][1]), start_time=start,
                                     end_time=end_dt.time(), minutes=minutes, created_at=now, updated_at=now))
            if rng.random() < 0.12:
                receipt = ctx.files.save("receipt", make_png((200, 190, 150)), "receipt.png", RECEIPT)
                rows.append(Registration(job_id=jobs[job_key].id, employee_id=staff[employee].id, kind="expense",
                                         work_date=day, description=rng.choice(
                                             ("Cleaning supplies", "Parking", "Replacement mop heads")),
                                         amount_cents=rng.choice((750, 1295, 2450, 3899)),
                                         receipt_file=receipt.stored_name, receipt_name="receipt.png",
                                         created_at=now, updated_at=now))
            if rng.random() < 0.2:
                rows.append(Registration(job_id=jobs[job_key].id, employee_id=staff[employee].id, kind="mileage",
                                         work_date=day, description="Drive to the site with the equipment",
                                         distance_km=round(rng.uniform(8, 45), 1), from_place="Depot, Amsterdam",
                                         to_place="Customer site", created_at=now, updated_at=now))
    with ctx.uow() as uow:
        uow.session.add_all(rows)
        uow.commit()


def _visits(ctx: Context, rng: random.Random, customer_ids: list[int]) -> None:
    """A visit for each hours registration of these customers: planned vs actual times, 1-3 photos."""
    now = ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        hours = session.execute(select(Registration, Job.customer_id).join(Job, Registration.job_id == Job.id).where(
            Job.customer_id.in_(customer_ids), Registration.kind == "hours")
            .order_by(Registration.work_date, Registration.id)).all()
        for registration, customer_id in hours:
            planned = datetime.combine(registration.work_date, registration.start_time, tzinfo=ctx.settings.zone)
            planned_end = planned + timedelta(minutes=registration.minutes)
            early_late = timedelta(minutes=rng.choice((-10, -5, 0, 0, 5, 15, 25)))
            visit = Visit(customer_id=customer_id, job_id=registration.job_id, employee_id=registration.employee_id,
                          planned_start=planned, planned_end=planned_end, checked_in_at=planned + early_late,
                          checked_out_at=planned_end + timedelta(minutes=rng.choice((-20, -5, 0, 10))),
                          note=registration.description, created_at=now)
            session.add(visit)
            session.flush()
            registration.visit_id = visit.id  # these hours were registered from this visit
            for number in range(1, rng.randint(1, 3) + 1):
                name = f"visit-{visit.id}-photo-{number}.png"
                stored = ctx.files.save("photo", make_png(rng.choice(COLOURS)), name, IMAGE)
                session.add(VisitPhoto(visit_id=visit.id, stored_name=stored.stored_name, original_name=name,
                                       content_type=stored.content_type, size=stored.size, uploaded_at=now))
        uow.commit()


def _finished_visit(ctx: Context, customer_id: int, job: Job, employee: StaffView) -> None:
    """Yesterday's visit, checked in and out but not yet registered as hours (its "Register as hours" button)."""
    start = datetime.combine(ctx.clock().date() - timedelta(days=1), time(7, 30), tzinfo=ctx.settings.zone)
    now = ctx.clock()
    with ctx.uow() as uow:
        visit = Visit(customer_id=customer_id, job_id=job.id, employee_id=employee.id, planned_start=start,
                      planned_end=start + timedelta(hours=2), checked_in_at=start + timedelta(minutes=4),
                      checked_out_at=start + timedelta(hours=2, minutes=10),
                      note="Skylights with the telescopic pole", created_at=now)
        uow.session.add(visit)
        uow.session.flush()
        stored = ctx.files.save("photo", make_png(COLOURS[0]), "skylights.png", IMAGE)
        uow.session.add(VisitPhoto(visit_id=visit.id, stored_name=stored.stored_name, original_name="skylights.png",
                                   content_type=stored.content_type, size=stored.size, uploaded_at=now))
        uow.commit()


def _documents(ctx: Context, rng: random.Random, today: date, customers: dict[str, int],
               staff: dict[str, StaffView]) -> None:
    """Invoices and quotes with PDFs, journal notes and resource links."""
    now, rows, number = ctx.clock(), [], 0
    names = {key: name for key, name, *_ in CUSTOMERS}
    for key, customer_id in customers.items():
        documents = [("invoice", 40, "paid"), ("invoice", 12, rng.choice(("sent", "overdue"))), ("invoice", 1, "draft"),
                     ("quote", 20, rng.choice(("sent", "accepted", "declined")))]
        for kind, days_ago, status in documents:
            number += 1
            label = f"{'INV' if kind == 'invoice' else 'Q'}-{today.year}-{number:04d}"
            amount = rng.randrange(25000, 480000, 500)
            pdf = make_pdf([f"{ctx.settings.company_name}: {kind} {label}", f"To: {names[key]}",
                            f"Date: {today - timedelta(days=days_ago):%d %B %Y}",
                            f"Amount: EUR {amount / 100:,.2f}", "Thank you for your business."])
            stored = ctx.files.save("pdf", pdf, f"{label}.pdf", PDF)
            rows.append(Invoice(customer_id=customer_id, kind=kind, number=label, status=status,
                                issued_on=today - timedelta(days=days_ago), amount_cents=amount,
                                pdf_file=stored.stored_name, pdf_name=stored.original_name, created_at=now))
        rows.append(JournalEntry(customer_id=customer_id, author_id=staff["ada"].id, created_at=now,
                                 text=f"Kick-off meeting with {names[key]}: keys handed over, alarm code in the safe."))
        rows.append(JournalEntry(customer_id=customer_id, author_id=staff["max"].id, created_at=now,
                                 text="Customer asked for an extra round before the holidays; quote follows."))
    for key, title, url in (("harbour", "Floor plan of the practice", "https://harbourview-dental.example/plan"),
                            ("greenleaf", "Building access instructions", "https://greenleaf-offices.example/access"),
                            ("greenleaf", "Cleaning schedule (shared sheet)", "https://greenleaf-offices.example/rota")):
        rows.append(CustomerResource(customer_id=customers[key], title=title, url=url, created_by=staff["ada"].id,
                                     created_at=now))
    with ctx.uow() as uow:
        uow.session.add_all(rows)
        uow.commit()


def _approvals(ctx: Context, admin: StaffView, today: date, customers: dict[str, int], jobs: dict[str, Job]) -> None:
    """Harbour View Dental has a job and a timesheet waiting (approve one, reject hours in the other); Golden
    Crust approved its job; Greenleaf queried one and has a timesheet waiting."""
    last_sunday = today - timedelta(days=today.weekday() + 1)
    send_job_for_approval(ctx, jobs["windows"].id, staff=admin)
    send_hours_for_approval(ctx, customers["harbour"], staff=admin, period_start=today - timedelta(days=30),
                            period_end=last_sunday, job_id=jobs["weekly"].id)
    _decide(ctx, send_job_for_approval(ctx, jobs["kitchen"].id, staff=admin), customers["crust"],
            "Pieter de Bakker", {"decision": "approve", "comment": "All fine, thank you!"})
    _decide(ctx, send_job_for_approval(ctx, jobs["carpet"].id, staff=admin), customers["greenleaf"], "Olivia Groen",
            {"decision": "query", "comment": "Were the meeting rooms on the 2nd floor included?"})
    send_hours_for_approval(ctx, customers["greenleaf"], staff=admin, period_start=today - timedelta(days=30),
                            period_end=last_sunday, job_id=jobs["office"].id)


def _history(ctx: Context, admin: StaffView, customers: dict[str, int], staff: dict[str, StaffView]) -> None:
    """HISTORY's jobs, each sent for approval and decided on its day: the engine runs on a clock set to those
    moments, so the tasks' times (what the diagram's review times are computed from) are as if lived."""
    now = ctx.clock()
    for key, name, employee, description, contact, days_ago, review_hours, decision, comment in HISTORY:
        sent = now - timedelta(days=days_ago)
        with ctx.uow() as uow:
            manager_id = uow.session.get(Customer, customers[key]).account_manager_id
            job = Job(customer_id=customers[key], manager_id=manager_id, name=name,
                      period_start=sent.date() - timedelta(days=7), period_end=sent.date(),
                      requires_customer_approval=True, approval_status="draft", created_at=sent)
            uow.session.add(job)
            uow.session.flush()
            work_day = sent.date() - timedelta(days=1)
            uow.session.add(Registration(job_id=job.id, employee_id=staff[employee].id, kind="hours",
                                         work_date=work_day, description=description, start_time=time(8, 0),
                                         end_time=time(12, 0), minutes=240, created_at=sent, updated_at=sent))
            job_id = job.id
            uow.commit()
        instance_id = send_job_for_approval(_at(ctx, sent), job_id, staff=admin)
        _decide(_at(ctx, sent + timedelta(hours=review_hours)), instance_id, customers[key], contact,
                {"decision": decision, "comment": comment})


def _at(ctx: Context, moment: datetime) -> Context:
    """The context with its clock stopped at `moment`."""
    return dataclasses.replace(ctx, clock=lambda: moment)


def _decide(ctx: Context, instance_id: int, customer_id: int, contact: str, data: dict) -> None:
    """The contact decides as the portal would: its actor is its name and e-mail (the story shows the customer)."""
    email = next(email for *_, contacts in CUSTOMERS for name, email, _ in contacts if name == contact)
    task = list_open_tasks(ctx, instance_id)[0]
    complete_task(ctx, task["id"], data, Actor(f"{contact} {email}", frozenset({"customer"}), frozenset({customer_id})))
