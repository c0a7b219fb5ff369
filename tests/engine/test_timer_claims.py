"""Sweepers claim their own due timers: a claim is left alone while its lease runs, and handed on after it."""

from collections import Counter

import pytest
from sqlalchemy import select

from engine.models import InstanceEvent
from engine.services import timers
from engine.services.instances import start_instance
from engine.services.timers import fire_all_due_timers, fire_due_timers
from engine.workflow import runtime
from tests.engine.helpers import JOB_START, instance, outbox

FIXTURES = "tests/fixtures/bpmn"


def fired_counts(ctx, ids) -> Counter:
    with ctx.uow() as uow:
        return Counter(uow.session.scalars(select(InstanceEvent.instance_id).where(
            InstanceEvent.instance_id.in_(ids), InstanceEvent.kind == "timer_fired")))


def test_a_sweeper_that_dies_mid_claim_leaves_its_claims_to_the_next_once_the_lease_runs_out(
        ctx, deploy, clock, monkeypatch):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    ids = [start_instance(ctx, "computed_wait", {"wait": f"PT{60 + n}M"}) for n in range(5)]
    monkeypatch.setattr(timers, "CLAIM", 3)
    real_load = runtime.load

    def killed_at_the_second(session, row, *args):
        if row.id == ids[1]:
            raise KeyboardInterrupt  # what a worker's shutdown or kill looks like from inside the sweep
        return real_load(session, row, *args)

    monkeypatch.setattr(runtime, "load", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        fire_due_timers(ctx, clock.advance(hours=3))
    monkeypatch.setattr(runtime, "load", real_load)
    assert instance(ctx, ids[0]).status == "completed"

    # the dead sweeper claimed ids[0..2]: another sweeper takes only what it had not claimed
    assert fire_due_timers(ctx, clock.now) == ids[3:]
    assert [instance(ctx, i).status for i in ids[1:3]] == ["running", "running"]
    assert fire_due_timers(ctx, clock.advance(seconds=timers.LEASE.total_seconds() - 1)) == []
    # once the lease has run out, the stranded claims fire, each exactly once
    assert fire_due_timers(ctx, clock.advance(seconds=1)) == ids[1:3]
    assert all(instance(ctx, i).status == "completed" for i in ids)
    assert fired_counts(ctx, ids) == Counter({i: 1 for i in ids})


def test_an_instance_over_the_per_transaction_cap_goes_on_in_the_same_sweep(ctx, deploy, clock, monkeypatch):
    deploy("bpmn/job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", dict(JOB_START))
    monkeypatch.setattr(timers, "MAX_TIMERS_PER_INSTANCE", 1)
    # the reminder fires in one transaction, the period's end (still due, its claim lifted) in the next
    assert fire_all_due_timers(ctx, clock.advance(days=7, seconds=1)) == [iid, iid]
    assert instance(ctx, iid).status == "completed"
    assert outbox(ctx, iid) == ["approval_request_to_customer", "reminder_to_customer",
                                "expired_auto_approved_to_manager"]


def test_sweeps_fire_the_most_overdue_first_across_claims(ctx, deploy, clock, monkeypatch):
    deploy(f"{FIXTURES}/computed_wait.bpmn")
    ids = [start_instance(ctx, "computed_wait", {"wait": f"PT{90 - n}M"}) for n in range(5)]
    monkeypatch.setattr(timers, "CLAIM", 2)
    assert fire_due_timers(ctx, clock.advance(hours=2)) == ids[::-1]
