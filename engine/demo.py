"""`signoff demo`: deploy the shipped processes and walk a job approval through every kind of step."""

import time
from datetime import timedelta

from engine.background import BackgroundWorker
from engine.config import PROJECT_ROOT
from engine.mail.transport import make_transport
from engine.services.context import SYSTEM, Actor, Context
from engine.services.deployments import deploy_file
from engine.services.inbox import get_instance, list_open_tasks
from engine.services.instances import complete_task, start_instance
from engine.services.outbox import list_mail
from engine.services.timers import fire_due_timers

CUSTOMER = Actor("Carla Customer (contact of customer 1)", frozenset({"customer"}), frozenset({1}))
MANAGER = Actor("Max Manager", frozenset({"manager"}), frozenset({1}))  # the manager of customer 1's case
JOB = {
    "customer_id": 1, "job_id": 101, "manager_id": 1, "title": "Window cleaning, Main Street 12",
    "approval_period": "P7D", "reminder_interval": "P2D", "period_end_action": "auto_approve",
    "minimum_resume_period": "P1D", "customer_email": "carla@mainstreet.example",
    "manager_email": "max@signoff.example",
}
LIVE_SECONDS = 30


def run_demo(ctx: Context) -> None:
    """Print each step of three job approvals: decided by the customer, expired by `timers fire`, and
    expired in real time by the background worker."""
    for name in ("job_approval.bpmn", "timesheet_approval.bpmn"):
        for deployed in deploy_file(ctx, SYSTEM, (PROJECT_ROOT / "bpmn" / name).read_bytes(), name):
            print(f"deployed {deployed.process_id} version {deployed.version}")

    first = start_instance(ctx, "job_approval", JOB)
    print(f"\n1. staff sent job 101 for approval: instance {first}")
    _act(ctx, first, CUSTOMER, {"decision": "query", "comment": "Were the inside windows done too?"})
    _act(ctx, first, MANAGER, {"answer": "Yes, inside and outside."})
    _act(ctx, first, CUSTOMER, {"decision": "approve", "comment": "Thanks!"})
    _summary(ctx, first)

    second = start_instance(ctx, "job_approval", {**JOB, "job_id": 102, "title": "Carpet cleaning"})
    print(f"\n2. staff sent job 102 for approval: instance {second}; nobody answers")
    for days in (3, 8):
        advanced = fire_due_timers(ctx, ctx.clock() + timedelta(days=days))
        print(f"   timers fired as of now + {days} days for instance(s) {advanced}")
    _summary(ctx, second)
    _live(ctx)


def _live(ctx: Context) -> None:
    """A job with a 5-second approval period, left to the background worker: it reminds and expires."""
    worker = BackgroundWorker(ctx, make_transport(ctx.settings.smtp_url), interval=1.0)
    worker.start()
    try:
        third = start_instance(ctx, "job_approval", {**JOB, "job_id": 103, "title": "Gutter cleaning",
                                                      "approval_period": "PT5S", "reminder_interval": "PT3S"})
        print(f"\n3. job 103 with a 5-second approval period: instance {third}; the background worker takes over")
        seen = 0
        deadline = time.monotonic() + LIVE_SECONDS
        while time.monotonic() < deadline:
            view = get_instance(ctx, third)
            for event in view["history"][seen:]:
                if event["kind"] in ("timer_fired", "task_ready", "instance_completed"):
                    print(f"   {event['at'][11:19]} {event['kind']} {event['element_id'] or ''}")
            seen = len(view["history"])
            if view["status"] != "running" and not _undelivered(ctx):
                break
            time.sleep(0.5)
        _summary(ctx, third)
    finally:
        worker.stop()
    print("\ndev mailbox (signoff mail list; signoff mail show ID):")
    for mail in reversed(list_mail(ctx, limit=20)):
        print(f"   {mail['id']:>3} {mail['status']:<8} {mail['to'] or '-':<28} {mail['subject'] or mail['template']}")


def _undelivered(ctx: Context) -> bool:
    return any(mail["status"] == "pending" for mail in list_mail(ctx, limit=20))


def _act(ctx: Context, instance_id: int, actor: Actor, data: dict) -> None:
    task = list_open_tasks(ctx, instance_id)[0]
    complete_task(ctx, task["id"], data, actor)
    print(f"   {actor.name} completed '{task['name']}' with {data}")


def _summary(ctx: Context, instance_id: int) -> None:
    view = get_instance(ctx, instance_id)
    print(f"   instance {instance_id} is {view['status']}, case status {view['case_status']}")
    steps = [e["element_id"] for e in view["history"] if e["kind"] in ("element_completed", "timer_fired")]
    print("   path: " + " -> ".join(steps))
