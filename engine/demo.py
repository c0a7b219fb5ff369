"""`signoff demo`: deploy the shipped processes and walk a job approval through every kind of step."""

from datetime import timedelta

from engine.config import PROJECT_ROOT
from engine.services.context import Actor, Context
from engine.services.deployments import deploy_process
from engine.services.inbox import get_instance, list_open_tasks
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers

CUSTOMER = Actor("Carla Customer (contact of customer 1)", frozenset({"customer"}), frozenset({1}))
MANAGER = Actor("Max Manager", frozenset({"manager"}))
JOB = {
    "customer_id": 1, "job_id": 101, "manager_id": 1, "title": "Window cleaning, Main Street 12",
    "approval_period": "P7D", "reminder_interval": "P2D", "period_end_action": "auto_approve",
    "minimum_resume_period": "P1D",
}


def run_demo(ctx: Context) -> None:
    """Print each step of two job approvals: one decided by the customer, one left to expire."""
    for name in ("job_approval.bpmn", "timesheet_approval.bpmn"):
        deployed = deploy_process(ctx, (PROJECT_ROOT / "bpmn" / name).read_bytes(), name)
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


def _act(ctx: Context, instance_id: int, actor: Actor, data: dict) -> None:
    task = list_open_tasks(ctx, instance_id)[0]
    complete_task(ctx, task["id"], data, actor)
    print(f"   {actor.name} completed '{task['name']}' with {data}")


def _summary(ctx: Context, instance_id: int) -> None:
    view = get_instance(ctx, instance_id)
    print(f"   instance {instance_id} is {view['status']}, case status {view['case_status']}")
    steps = [e["element_id"] for e in view["history"] if e["kind"] in ("element_completed", "timer_fired")]
    print("   path: " + " -> ".join(steps))
