"""Reads at scale: the inbox, the Customer Approval board and the portal approvals page over many rows.

`seed_reads` fills a database with `rows` job_approval instances, each with one open task (bulk Core INSERTs of
copies, see engine.bench.seed): customers of 50 instances each, whose contacts may log in to the portal; one
instance in ten escalated to the Manager lane; deadlines spread over four weeks around now; a manager who is
account manager of one customer in twenty. Then the p95 of each service query is timed here, and of each page
through Flask's test client in a subprocess (`python -m webapp.bench_pages`: the engine never imports webapp).
"""

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select

from engine.bench.common import PROCESS_ID, START_DATA, Progress, p95
from engine.bench.seed import clone, read_template
from engine.config import PROJECT_ROOT
from engine.models import Contact, Customer, OutboxMessage
from engine.services import portal_auth, staff_auth
from engine.services.approval_board import list_approvals
from engine.services.context import Context
from engine.services.inbox import list_inbox
from engine.services.instances import start_instance
from engine.services.portal_views import list_review_tasks
from engine.services.timers import fire_due_timers

TASKS_PER_CUSTOMER = 50
ESCALATED_EVERY = 10
MANAGED_EVERY = 20
MANAGER_EMAIL = "manager@bench.example"
MANAGER_PASSWORD = "quiet lantern orbit 42"
BENCH_IP = "127.0.0.1"
# the pages measured, with the same filters as the service queries
INBOX_PATH = f"/inbox?process={PROCESS_ID}&due=soon"
BOARD_PATH = "/approvals?status=escalated"
PORTAL_PATH = "/portal/approvals"


@dataclass(frozen=True)
class Seeded:
    """Who the read measures act as: the manager (staff session) and the first customer's contact (portal)."""

    manager: staff_auth.StaffView
    manager_token: str
    customer_id: int
    contact_token: str
    rows: int


def _contact_email(n: int) -> str:
    return f"contact{n}@customer{n}.example"


def _seed_customers(ctx: Context, count: int, manager_id: int) -> list[int]:
    now = ctx.clock()
    with ctx.db.begin() as conn:
        ids = list(conn.execute(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), [
            {"name": f"Customer {n:06d}", "portal_access": True, "created_at": now,
             "account_manager_id": manager_id if n % MANAGED_EVERY == 0 else None} for n in range(count)]).scalars())
        conn.execute(insert(Contact), [{"customer_id": cid, "name": f"Contact {n}", "email": _contact_email(n)}
                                       for n, cid in enumerate(ids)])
    return ids


def portal_login(ctx: Context, email: str) -> str:
    """A portal session token through the real login: ask for a code, read it from the outbox, verify it."""
    login = portal_auth.request_code(ctx, email, BENCH_IP)
    with ctx.uow() as uow:
        mail = uow.session.scalar(select(OutboxMessage).where(
            OutboxMessage.template == "login_code_to_customer", OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc()).limit(1))
    return portal_auth.verify_code(ctx, login.token, mail.context["code"], BENCH_IP, "signoff-bench")


def seed_reads(ctx: Context, rows: int, progress: Progress | None = None) -> Seeded:
    """`rows` instances and open tasks (at least two customers' worth); job_approval must be deployed.

    The two template instances belong to the last customer, so the first one's contact has exactly 50 reviews.
    """
    rows = max(rows, 2 * TASKS_PER_CUSTOMER)
    staff_auth.create_staff_user(ctx, MANAGER_EMAIL, "Bench Manager", "manager", MANAGER_PASSWORD)
    manager_token = staff_auth.authenticate(ctx, MANAGER_EMAIL, MANAGER_PASSWORD)
    manager = staff_auth.resolve_session(ctx, manager_token)
    customer_ids = _seed_customers(ctx, rows // TASKS_PER_CUSTOMER, manager.id)
    first, last = customer_ids[0], customer_ids[-1]
    review = read_template(ctx, start_instance(ctx, PROCESS_ID, {**START_DATA, "customer_id": last}))
    escalated_id = start_instance(ctx, PROCESS_ID, {**START_DATA, "customer_id": last,
                                                    "period_end_action": "escalate"})
    fire_due_timers(ctx, ctx.clock() + timedelta(days=8))
    escalated = read_template(ctx, escalated_id)
    for template in (review, escalated):  # the copies are job approvals: the board lists them
        template.instance["case_type"] = "job"
    now = ctx.clock()

    def customer_of(n: int) -> int:
        return customer_ids[min(n // TASKS_PER_CUSTOMER, len(customer_ids) - 1)]

    def is_escalated(n: int) -> bool:
        return n % ESCALATED_EVERY == ESCALATED_EVERY - 1 and customer_of(n) != first

    reviews = [n for n in range(rows - 2) if not is_escalated(n)]
    escalations = [n for n in range(rows - 2) if is_escalated(n)]
    done = 0

    def tick(count: int) -> None:
        if progress:
            progress(f"seeding {done + count:,} of {rows:,} instances")

    clone(ctx, review, len(reviews), lambda i: {
        "customer_id": customer_of(reviews[i]), "title": f"Job {reviews[i]}",
        "due_at": now + timedelta(hours=reviews[i] % (28 * 24) - 14 * 24)}, tick)
    done = len(reviews)
    clone(ctx, escalated, len(escalations), lambda i: {
        "customer_id": customer_of(escalations[i]), "title": f"Job {escalations[i]}",
        "due_at": now + timedelta(hours=escalations[i] % (28 * 24) - 14 * 24)}, tick)
    if ctx.is_postgres:
        # A live database has planner statistics (autovacuum analyses it); tables bulk-loaded a moment ago have
        # none yet, and the planner then picks plans no running installation would (the board took 1.3 s, not 16 ms).
        with ctx.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    contact_token = portal_login(ctx, _contact_email(0))
    return Seeded(manager, manager_token, first, contact_token, rows)


def _timed_ms(call, samples: int) -> list[float]:
    call()  # warm: the first call compiles the statements and fills the caches
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_service_reads(ctx: Context, seeded: Seeded, samples: int) -> dict:
    """p95 ms of the manager's filtered inbox and board, and of the contact's open reviews (50 tasks)."""
    contact = portal_auth.resolve_session(ctx, seeded.contact_token).actor
    inbox = _timed_ms(lambda: list_inbox(ctx, seeded.manager.actor, PROCESS_ID, "soon"), samples)
    board = _timed_ms(lambda: list_approvals(ctx, staff=seeded.manager, status="escalated"), samples)
    portal = _timed_ms(lambda: list_review_tasks(ctx, contact, seeded.customer_id), samples)
    return {"inbox_p95_ms": p95(inbox), "board_p95_ms": p95(board), "portal_p95_ms": p95(portal),
            "inbox_rows": len(list_inbox(ctx, seeded.manager.actor, PROCESS_ID, "soon")),
            "board_rows": len(list_approvals(ctx, staff=seeded.manager, status="escalated")),
            "portal_rows": len(list_review_tasks(ctx, contact, seeded.customer_id))}


def measure_page_reads(url: str, seeded: Seeded, samples: int) -> dict:
    """p95 ms of the same three pages through Flask's test client (in a subprocess that imports webapp)."""
    spec = {"database_url": url, "samples": samples, "pages": [
        {"name": "inbox", "path": INBOX_PATH, "cookie": "signoff_staff", "token": seeded.manager_token},
        {"name": "board", "path": BOARD_PATH, "cookie": "signoff_staff", "token": seeded.manager_token},
        {"name": "portal", "path": PORTAL_PATH, "cookie": "signoff_portal", "token": seeded.contact_token}]}
    done = subprocess.run([sys.executable, "-m", "webapp.bench_pages"], input=json.dumps(spec), text=True,
                          capture_output=True, cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"reads: the page timer failed:\n{done.stderr[-2000:]}")
    timings = json.loads(done.stdout)
    return {f"{name}_flask_p95_ms": p95(ms) for name, ms in timings.items()}
