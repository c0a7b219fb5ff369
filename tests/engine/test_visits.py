"""Visits: times in UTC, check-in/out, photos stored under generated names, scope."""

from datetime import UTC, datetime

import pytest

from engine.errors import InvalidInput, NotFound
from engine.services import customers, visits
from engine.services.staff_auth import create_staff_user
from tests.engine.test_registrations import JPEG, PASSWORD, make_world

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 50


@pytest.fixture
def world(ctx):
    return make_world(ctx)


def _visit(ctx, world, staff=None, **kw):
    args = {"customer_id": world["customer"]["id"], "employee_id": world["eli"].id,
            "planned_start": "2026-11-24T08:00", "planned_end": "2026-11-24T10:30+01:00"}
    return visits.create_visit(ctx, staff=staff or world["eli"], **{**args, **kw})


def _uploads(ctx):
    root = ctx.files.root
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_times_are_utc_and_local_input_is_read_as_utc(ctx, world):
    visit = _visit(ctx, world, job_id=world["job"]["id"], note="  keys at the desk ")
    assert visit["planned_start"] == "2026-11-24T08:00:00+00:00"
    assert visit["planned_end"] == "2026-11-24T09:30:00+00:00" and visit["planned_duration"] == "1:30"
    assert visit["job_name"] == "Windows" and visit["note"] == "keys at the desk" and visit["state"] == "planned"


def test_inverted_or_bad_times_are_refused_with_every_problem(ctx, world):
    with pytest.raises(InvalidInput) as err:
        _visit(ctx, world, planned_end="2026-11-24T07:00", checked_in_at="2026-11-24T09:00",
               checked_out_at="2026-11-24T08:59")
    assert "planned_end: must not be before the planned start" in str(err.value)
    assert "checked_out_at: must not be before the check-in" in str(err.value)
    with pytest.raises(InvalidInput, match="planned_start: not a date and time"):
        _visit(ctx, world, planned_start="tomorrow")
    with pytest.raises(InvalidInput, match="checked_out_at: there is no check-in"):
        _visit(ctx, world, checked_out_at="2026-11-24T09:00")
    assert visits.list_visits(ctx, staff=world["mia"]) == []


def test_check_in_and_out_use_the_clock(ctx, world, clock):
    visit = _visit(ctx, world)
    with pytest.raises(InvalidInput, match="checked_out_at: check in first"):
        visits.check_out(ctx, staff=world["eli"], visit_id=visit["id"])
    assert visits.check_in(ctx, staff=world["eli"], visit_id=visit["id"])["checked_in_at"] == clock().isoformat()
    with pytest.raises(InvalidInput, match="already checked in"):
        visits.check_in(ctx, staff=world["eli"], visit_id=visit["id"])
    clock.advance(minutes=95)
    done = visits.check_out(ctx, staff=world["eli"], visit_id=visit["id"])
    assert done["actual_minutes"] == 95 and done["actual_duration"] == "1:35" and done["state"] == "done"


def test_update_visit_times_and_note(ctx, world):
    visit = _visit(ctx, world)
    changed = visits.update_visit(ctx, staff=world["mia"], visit_id=visit["id"], planned_start="2026-11-25T08:00Z",
                                  planned_end="2026-11-25T09:00Z",
                                  checked_in_at=datetime(2026, 11, 25, 8, 5, tzinfo=UTC),
                                  checked_out_at="2026-11-25T08:50", note="done")
    assert changed["actual_minutes"] == 45 and changed["note"] == "done"
    with pytest.raises(InvalidInput, match="planned_end: must not be before"):
        visits.update_visit(ctx, staff=world["eli"], visit_id=visit["id"], planned_start="2026-11-25T08:00",
                            planned_end="2026-11-25T07:00")


def test_employees_only_their_own_visits_and_managers_only_in_scope(ctx, world):
    with pytest.raises(InvalidInput, match="employee_id: employees plan only their own visits"):
        _visit(ctx, world, employee_id=world["eva"].id)
    visit = _visit(ctx, world)
    for staff in (world["eva"], world["max"]):
        with pytest.raises(NotFound):
            visits.get_visit(ctx, staff=staff, visit_id=visit["id"])
        with pytest.raises(NotFound):
            visits.check_in(ctx, staff=staff, visit_id=visit["id"])
    with pytest.raises(NotFound):
        _visit(ctx, world, staff=world["max"], employee_id=world["max"].id)
    assert visits.list_visits(ctx, staff=world["eva"]) == []
    assert [v["id"] for v in visits.list_visits(ctx, staff=world["mia"])] == [visit["id"]]


def test_archived_customer_and_foreign_job_refused(ctx, world):
    other = customers.create_customer(ctx, staff=world["mia"], name="Bolt")
    with pytest.raises(InvalidInput, match="job_id: not a job of this customer"):
        _visit(ctx, world, staff=world["mia"], customer_id=other["id"], job_id=world["job"]["id"])
    customers.archive_customer(ctx, world["customer"]["id"], staff=world["mia"])
    with pytest.raises(InvalidInput, match="customer_id: the customer is archived"):
        _visit(ctx, world)


def test_photos_stored_under_generated_names_and_counted(ctx, world):
    visit = _visit(ctx, world)
    photo = visits.add_photo(ctx, staff=world["eli"], visit_id=visit["id"], data=JPEG, filename="../door.jpg")
    visits.add_photo(ctx, staff=world["eli"], visit_id=visit["id"], data=PNG, filename="hall.png")
    path, name, content_type = visits.photo_file(ctx, staff=world["mia"], photo_id=photo["id"])
    assert name == "door.jpg" and content_type == "image/jpeg" and path.name != "door.jpg"
    assert path.read_bytes() == JPEG and len(_uploads(ctx)) == 2
    detail = visits.get_visit(ctx, staff=world["eli"], visit_id=visit["id"])
    assert detail["photo_count"] == 2 and [p["original_name"] for p in detail["photos"]] == ["door.jpg", "hall.png"]
    assert visits.list_visits(ctx, staff=world["mia"])[0]["photo_count"] == 2
    with pytest.raises(NotFound):
        visits.photo_file(ctx, staff=world["eva"], photo_id=photo["id"])
    visits.delete_photo(ctx, staff=world["eli"], photo_id=photo["id"])
    assert len(_uploads(ctx)) == 1


def test_fake_jpeg_photo_refused_and_not_written(ctx, world):
    visit = _visit(ctx, world)
    with pytest.raises(InvalidInput, match="photo: door.jpg is not a valid JPG file"):
        visits.add_photo(ctx, staff=world["eli"], visit_id=visit["id"], data=b"<html>", filename="door.jpg")
    assert _uploads(ctx) == []


def test_list_filters_by_period_customer_and_employee(ctx, world):
    _visit(ctx, world)
    _visit(ctx, world, planned_start="2026-11-20T08:00", planned_end="2026-11-20T09:00")
    _visit(ctx, world, staff=world["mia"], employee_id=world["eva"].id)
    assert len(visits.list_visits(ctx, staff=world["mia"], date_from="2026-11-24", date_to="2026-11-24")) == 2
    assert len(visits.list_visits(ctx, staff=world["mia"], date_to="2026-11-21")) == 1
    assert len(visits.list_visits(ctx, staff=world["mia"], employee_id=world["eva"].id)) == 1
    assert len(visits.list_visits(ctx, staff=world["mia"], customer_id=world["customer"]["id"])) == 3
    with pytest.raises(InvalidInput, match="date_from: not a date"):
        visits.list_visits(ctx, staff=world["mia"], date_from="x")
    outsider = create_staff_user(ctx, "oz@example.com", "Oz", "employee", PASSWORD)
    assert visits.list_visits(ctx, staff=outsider) == []
