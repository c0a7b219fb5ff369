"""Hours, expenses and mileage on jobs: validation, scope, draft-only edits, totals, receipts."""

import pytest

from engine.errors import InvalidInput, NotFound
from engine.models import CustomerEmployee, Registration
from engine.services import customers, jobs, registrations
from engine.services.staff_auth import create_staff_user

PASSWORD = "correct horse battery"
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 100
PDF = b"%PDF-1.4\n" + b"0" * 100


def make_world(ctx) -> dict:
    """A manager with a customer and job, an associated employee, another employee, another manager."""
    mia = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    max_ = create_staff_user(ctx, "max@example.com", "Max Manager", "manager", PASSWORD)
    eli = create_staff_user(ctx, "eli@example.com", "Eli Employee", "employee", PASSWORD)
    eva = create_staff_user(ctx, "eva@example.com", "Eva Employee", "employee", PASSWORD)
    customer = customers.create_customer(ctx, staff=mia, name="Acme Cleaning")
    job = jobs.create_job(ctx, customer["id"], staff=mia, name="Windows", manager_id=mia.id)
    with ctx.uow() as uow:
        uow.session.add_all([CustomerEmployee(customer_id=customer["id"], employee_id=eli.id),
                             CustomerEmployee(customer_id=customer["id"], employee_id=eva.id)])
        uow.commit()
    return {"mia": mia, "max": max_, "eli": eli, "eva": eva, "customer": customer, "job": job}


@pytest.fixture
def world(ctx):
    return make_world(ctx)


def _hours(ctx, world, staff=None, **kw):
    args = {"kind": "hours", "work_date": "2026-11-23", "description": "cleaning", "start_time": "08:00",
            "end_time": "09:30"}
    return registrations.create_registration(ctx, staff=staff or world["eli"], job_id=world["job"]["id"],
                                             **{**args, **kw})


def _uploads(ctx):
    root = ctx.files.root
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_hours_from_start_and_end_compute_minutes(ctx, world):
    reg = _hours(ctx, world)
    assert reg["minutes"] == 90 and reg["duration"] == "1:30" and reg["status"] == "draft"
    assert reg["employee_name"] == "Eli Employee" and reg["customer_name"] == "Acme Cleaning"


def test_hours_need_a_duration_and_every_problem_is_reported(ctx, world):
    with pytest.raises(InvalidInput) as err:
        _hours(ctx, world, start_time="", end_time="", work_date="23-11-2026", minutes="")
    assert "minutes: required" in str(err.value) and "work_date: not a date (YYYY-MM-DD)" in str(err.value)
    with pytest.raises(InvalidInput, match="end_time: must be after the start time"):
        _hours(ctx, world, start_time="10:00", end_time="09:00")
    with pytest.raises(InvalidInput, match=r"minutes: must be more than 0 and at most 1440"):
        _hours(ctx, world, start_time=None, end_time=None, minutes="1500")
    assert _hours(ctx, world, start_time=None, end_time=None, minutes="1:15")["minutes"] == 75


def test_expense_amount_rules_and_receipt_stored_under_generated_name(ctx, world):
    for amount, problem in (("0", "must be more than 0"), ("1.234", "at most 2 decimals"), ("abc", "not an amount"),
                            ("", "required")):
        with pytest.raises(InvalidInput, match=f"amount: {problem}"):
            _hours(ctx, world, kind="expense", amount=amount)
    reg = _hours(ctx, world, kind="expense", amount="12,5", receipt=(JPEG, "../../bon.jpg"))
    assert reg["amount_cents"] == 1250 and reg["amount"] == "12.50" and reg["minutes"] is None
    path, name, content_type = registrations.receipt_file(ctx, staff=world["eli"], registration_id=reg["id"])
    assert name == "bon.jpg" and content_type == "image/jpeg" and path.read_bytes() == JPEG
    assert path.name != "bon.jpg" and path.parent == ctx.files.root


def test_fake_jpeg_refused_and_nothing_written(ctx, world):
    with pytest.raises(InvalidInput, match="receipt: bon.jpg is not a valid JPG file"):
        _hours(ctx, world, kind="expense", amount="5", receipt=(b"just text", "bon.jpg"))
    with pytest.raises(InvalidInput, match="amount: must be more than 0"):
        _hours(ctx, world, kind="expense", amount="0", receipt=(PDF, "bon.pdf"))
    assert _uploads(ctx) == []
    assert registrations.list_registrations(ctx, staff=world["mia"])["rows"] == []


def test_mileage_needs_distance_and_places(ctx, world):
    with pytest.raises(InvalidInput) as err:
        _hours(ctx, world, kind="mileage", distance_km="-3", from_place="", to_place="")
    assert all(p in str(err.value) for p in ("distance_km: must be more than 0", "from_place: required",
                                             "to_place: required"))
    reg = _hours(ctx, world, kind="mileage", distance_km="12,5", from_place="Office", to_place="Acme")
    assert reg["distance_km"] == 12.5 and reg["start_time"] is None


def test_employee_registers_only_for_themselves_and_sees_only_their_own(ctx, world):
    with pytest.raises(InvalidInput, match="employee_id: employees register only for themselves"):
        _hours(ctx, world, employee_id=world["eva"].id)
    reg = _hours(ctx, world)
    with pytest.raises(NotFound):
        registrations.get_registration(ctx, staff=world["eva"], registration_id=reg["id"])
    with pytest.raises(NotFound):
        registrations.update_registration(ctx, staff=world["eva"], registration_id=reg["id"],
                                          job_id=world["job"]["id"], kind="hours", work_date="2026-11-23", minutes=5)
    assert registrations.list_registrations(ctx, staff=world["eva"])["rows"] == []


def test_manager_registers_for_an_employee_but_outside_scope_gets_not_found(ctx, world):
    reg = _hours(ctx, world, staff=world["mia"], employee_id=world["eva"].id)
    assert reg["employee_name"] == "Eva Employee"
    with pytest.raises(NotFound):
        _hours(ctx, world, staff=world["max"])
    with pytest.raises(NotFound):
        registrations.get_registration(ctx, staff=world["max"], registration_id=reg["id"])


def test_employee_not_associated_with_customer_gets_not_found(ctx, world):
    outsider = create_staff_user(ctx, "oz@example.com", "Oz", "employee", PASSWORD)
    with pytest.raises(NotFound):
        _hours(ctx, world, staff=outsider)


def test_archived_customer_refused(ctx, world):
    customers.archive_customer(ctx, world["customer"]["id"], staff=world["mia"])
    with pytest.raises(InvalidInput, match="job_id: the customer is archived"):
        _hours(ctx, world)


def test_only_drafts_can_be_edited_or_deleted(ctx, world):
    reg = _hours(ctx, world)
    changed = registrations.update_registration(ctx, staff=world["eli"], registration_id=reg["id"],
                                                job_id=world["job"]["id"], kind="hours", work_date="2026-11-24",
                                                minutes="45")
    assert changed["minutes"] == 45 and changed["start_time"] is None and changed["status"] == "draft"
    with ctx.uow() as uow:
        uow.session.get(Registration, reg["id"]).status = "submitted"
        uow.commit()
    with pytest.raises(InvalidInput, match="status: submitted for approval; it can no longer be edited"):
        registrations.update_registration(ctx, staff=world["eli"], registration_id=reg["id"],
                                          job_id=world["job"]["id"], kind="hours", work_date="2026-11-24", minutes=5)
    with pytest.raises(InvalidInput, match="status: submitted for approval"):
        registrations.delete_registration(ctx, staff=world["mia"], registration_id=reg["id"])
    assert registrations.get_registration(ctx, staff=world["eli"], registration_id=reg["id"])["minutes"] == 45


def test_delete_draft_removes_its_receipt(ctx, world):
    reg = _hours(ctx, world, kind="expense", amount="3", receipt=(PDF, "bon.pdf"))
    assert len(_uploads(ctx)) == 1
    registrations.delete_registration(ctx, staff=world["eli"], registration_id=reg["id"])
    assert _uploads(ctx) == []
    with pytest.raises(NotFound):
        registrations.get_registration(ctx, staff=world["eli"], registration_id=reg["id"])


def test_list_filters_and_totals(ctx, world):
    _hours(ctx, world)
    _hours(ctx, world, start_time=None, end_time=None, minutes="30", work_date="2026-11-01")
    _hours(ctx, world, kind="expense", amount="10.25")
    _hours(ctx, world, kind="mileage", distance_km="7.5", from_place="A", to_place="B")
    _hours(ctx, world, staff=world["eva"], kind="mileage", distance_km="2", from_place="A", to_place="B")
    listed = registrations.list_registrations(ctx, staff=world["mia"])
    assert listed["totals"] == {"minutes": 120, "duration": "2:00", "amount_cents": 1025, "amount": "10.25",
                                "km": 9.5, "count": 5}
    mine = registrations.list_registrations(ctx, staff=world["eli"], kind="hours", date_from="2026-11-20")
    assert [r["minutes"] for r in mine["rows"]] == [90] and mine["totals"]["minutes"] == 90
    by_customer = registrations.list_registrations(ctx, staff=world["mia"], customer_id=world["customer"]["id"],
                                                   employee_id=world["eva"].id)
    assert by_customer["totals"]["count"] == 1
    with pytest.raises(InvalidInput, match="date_to: must not be before"):
        registrations.list_registrations(ctx, staff=world["mia"], date_from="2026-11-02", date_to="2026-11-01")
    with pytest.raises(InvalidInput, match="status: must be one of"):
        registrations.list_registrations(ctx, staff=world["mia"], status="done")
