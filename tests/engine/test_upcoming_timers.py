"""What fires when across cases, in scope and paged, and the catch-up choice of missed reminders (replay or skip)."""

from datetime import timedelta

import pytest

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.services.context import SYSTEM, Actor
from engine.services.instances import cancel_instance, start_instance
from engine.services.timers import fire_due_timers
from engine.services.upcoming_timers import list_upcoming_timers, set_catch_up
from tests.engine.helpers import JOB_START, events, outbox, timers

ADMIN = Actor("ada@example.com", staff_id=1, staff_role="admin")
EMPLOYEE = Actor("eli@example.com", staff_id=5, staff_role="employee")


@pytest.fixture
def job(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")
    return lambda **kw: start_instance(ctx, "job_approval", {**JOB_START, **kw})


def test_upcoming_timers_are_listed_soonest_first_with_names_and_catch_up(ctx, job, clock):
    first = job()
    clock.advance(hours=1)
    second = job()
    page = list_upcoming_timers(ctx, ADMIN)
    assert [(t["instance_id"], t["element_id"]) for t in page] == [
        (first, "reminder_due"), (second, "reminder_due"), (first, "period_expired"), (second, "period_expired")]
    assert page[0]["element_name"] == "Reminder due" and page[0]["kind"] == "reminder"
    assert page[0]["catch_up"] == "replay" and page[2]["catch_up"] == "always"
    assert page[0]["due_at"] == (clock.now - timedelta(hours=1) + timedelta(days=2)).isoformat()


def test_upcoming_timers_page_with_a_cursor_and_refuse_a_foreign_one(ctx, job):
    for _ in range(3):
        job()
    first = list_upcoming_timers(ctx, ADMIN, size=4)
    rest = list_upcoming_timers(ctx, ADMIN, cursor=first.next_cursor, size=4)
    assert len(first) == 4 and len(rest) == 2 and not rest.next_cursor
    assert {t["id"] for t in first}.isdisjoint(t["id"] for t in rest)
    with pytest.raises(InvalidInput, match="cursor"):
        list_upcoming_timers(ctx, ADMIN, process_id="job_approval", cursor=first.next_cursor)


def test_upcoming_timers_are_in_scope(ctx, job):
    job()
    outsider = Actor("someone@else.example", frozenset({"customer"}), frozenset({99}))
    assert list(list_upcoming_timers(ctx, outsider)) == []
    assert len(list_upcoming_timers(ctx, Actor("dana", frozenset({"customer"}), frozenset({7})))) == 2


def test_a_missed_reminder_is_replayed_once_by_default(ctx, job, clock):
    iid = job()
    clock.advance(days=5)  # the worker was down from day 1 to day 5: the reminders of day 2 and 4 were missed
    fire_due_timers(ctx)
    assert outbox(ctx, iid).count("reminder_to_customer") == 1
    assert [t.due_at for t in timers(ctx, iid) if t.element_id == "reminder_due"] == [
        clock.now - timedelta(days=5) + timedelta(days=6)]


def test_a_missed_reminder_the_case_skips_is_not_sent_and_the_next_comes_on_time(ctx, job, clock):
    iid = job()
    set_catch_up(ctx, ADMIN, iid, "reminder_due", "skip")
    started = clock.now
    clock.advance(days=3)
    fire_due_timers(ctx)
    assert "reminder_to_customer" not in outbox(ctx, iid)
    (skipped,) = events(ctx, iid, "timer_skipped")
    assert skipped.element_id == "reminder_due"
    assert skipped.data == {"missed": (started + timedelta(days=2)).isoformat()}
    assert [t.due_at for t in timers(ctx, iid) if t.element_id == "reminder_due"] == [started + timedelta(days=4)]
    clock.advance(days=1, minutes=1)  # on time: sent
    fire_due_timers(ctx)
    assert outbox(ctx, iid).count("reminder_to_customer") == 1
    assert list_upcoming_timers(ctx, ADMIN)[0]["catch_up"] == "skip"


def test_a_reminder_that_is_only_a_little_late_is_sent_even_when_the_case_skips(ctx, job, clock):
    iid = job()
    set_catch_up(ctx, SYSTEM, iid, "reminder_due", "skip")
    clock.advance(days=2, minutes=2)  # a sweep a little late is not downtime
    fire_due_timers(ctx)
    assert outbox(ctx, iid).count("reminder_to_customer") == 1


def test_the_catch_up_choice_is_recorded_and_checked(ctx, job):
    iid = job()
    set_catch_up(ctx, ADMIN, iid, "reminder_due", "skip")
    (event,) = events(ctx, iid, "catch_up_set")
    assert (event.actor, event.data) == ("ada@example.com", {"choice": "skip"})
    with pytest.raises(InvalidInput, match="not one of replay, skip"):
        set_catch_up(ctx, ADMIN, iid, "reminder_due", "later")
    with pytest.raises(InvalidInput, match="no reminder 'period_expired'"):
        set_catch_up(ctx, ADMIN, iid, "period_expired", "skip")
    with pytest.raises(NotFound):
        set_catch_up(ctx, ADMIN, iid + 100, "reminder_due", "skip")
    with pytest.raises(NotAllowed):
        set_catch_up(ctx, EMPLOYEE, iid, "reminder_due", "skip")


def test_a_cancelled_case_has_no_upcoming_timers(ctx, job):
    kept, cancelled = job(), job()
    cancel_instance(ctx, cancelled, reason="sent twice")
    assert {t["instance_id"] for t in list_upcoming_timers(ctx, ADMIN)} == {kept}
