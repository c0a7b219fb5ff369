"""Visits become hours: a finished visit becomes one draft hours registration, once, in the actor's scope; by
itself at check-out when the company setting is on (SQLite and PostgreSQL)."""

import threading

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput, NotFound
from engine.models import CompanySettings, Registration
from engine.services import registrations, visit_hours, visits
from tests.engine.test_registrations import make_world


@pytest.fixture
def world(ctx):
    return make_world(ctx)


def _finished(ctx, world, **kw):
    args = {"customer_id": world["customer"]["id"], "employee_id": world["eli"].id, "job_id": world["job"]["id"],
            "planned_start": "2026-11-24T08:00", "planned_end": "2026-11-24T10:30", "checked_in_at": "2026-11-24T08:05",
            "checked_out_at": "2026-11-24T10:35", "note": "Skylights"}
    return visits.create_visit(ctx, staff=world["eli"], **{**args, **kw})


def _count(ctx, visit_id: int) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Registration.id)).where(Registration.visit_id == visit_id))


def test_a_finished_visit_becomes_one_draft_hours_registration(ctx, world):
    visit = _finished(ctx, world)
    made = visit_hours.turn_visit_into_hours(ctx, staff=world["eli"], visit_id=visit["id"])
    assert made["label"] == "24 Nov, 2:30 h"
    row = registrations.get_registration(ctx, staff=world["eli"], registration_id=made["id"])
    assert (row["kind"], row["work_date"], row["start_time"], row["end_time"], row["minutes"]) == (
        "hours", "2026-11-24", "08:05", "10:35", 150)
    assert row["status"] == "draft" and row["description"] == "Skylights" and row["job_id"] == world["job"]["id"]
    assert visits.get_visit(ctx, staff=world["eli"], visit_id=visit["id"])["hours_registration_id"] == made["id"]


def test_a_second_click_makes_no_second_registration(ctx, world):
    visit = _finished(ctx, world)
    visit_hours.turn_visit_into_hours(ctx, staff=world["eli"], visit_id=visit["id"])
    with pytest.raises(InvalidInput, match=r"already registered as hours \(24 Nov, 2:30 h\)"):
        visit_hours.turn_visit_into_hours(ctx, staff=world["mia"], visit_id=visit["id"])
    assert _count(ctx, visit["id"]) == 1


def test_two_clicks_at_once_make_one_registration(ctx, world):
    visit = _finished(ctx, world)
    outcomes: list[str] = []

    def click():
        try:
            visit_hours.turn_visit_into_hours(ctx, staff=world["eli"], visit_id=visit["id"])
            outcomes.append("made")
        except InvalidInput:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made", "refused"] and _count(ctx, visit["id"]) == 1


def test_an_unfinished_or_jobless_visit_is_refused_and_changes_nothing(ctx, world):
    open_visit = _finished(ctx, world, checked_out_at="")
    with pytest.raises(InvalidInput, match="check in and check out first"):
        visit_hours.turn_visit_into_hours(ctx, staff=world["eli"], visit_id=open_visit["id"])
    jobless = _finished(ctx, world, job_id=None)
    with pytest.raises(InvalidInput, match="link it to a job first"):
        visit_hours.turn_visit_into_hours(ctx, staff=world["eli"], visit_id=jobless["id"])
    assert _count(ctx, open_visit["id"]) == _count(ctx, jobless["id"]) == 0


def test_outside_the_scope_is_not_found(ctx, world):
    visit = _finished(ctx, world)
    for staff in (world["eva"], world["max"]):  # another employee's visit; another manager's customer
        with pytest.raises(NotFound):
            visit_hours.turn_visit_into_hours(ctx, staff=staff, visit_id=visit["id"])
    assert _count(ctx, visit["id"]) == 0


def test_check_out_registers_hours_by_itself_when_the_setting_is_on(ctx, world, clock):
    visit = _finished(ctx, world, checked_out_at="")
    plain = visit_hours.check_out_visit(ctx, staff=world["eli"], visit_id=visit["id"])
    assert plain == {"hours": None, "hours_problem": ""} and _count(ctx, visit["id"]) == 0
    with ctx.uow() as uow:
        uow.session.add(CompanySettings(id=1, visits_become_hours=True))
        uow.commit()
    second = _finished(ctx, world, checked_in_at=clock().isoformat(), checked_out_at="")
    clock.advance(minutes=45)
    done = visit_hours.check_out_visit(ctx, staff=world["eli"], visit_id=second["id"])
    assert done["hours"]["minutes"] == 45 and _count(ctx, second["id"]) == 1
