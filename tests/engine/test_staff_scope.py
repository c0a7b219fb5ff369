"""Which customers a staff member sees (engine.services.staff_scope), on SQLite and PostgreSQL.

Admins see every customer; a manager those it is account manager of or manages a job of; an employee those
it is associated with, though customer and job services refuse employees outright.
"""

import pytest

from engine.errors import NotAllowed, NotFound
from engine.models import CustomerEmployee
from engine.services import customers, jobs
from engine.services.staff_auth import create_staff_user
from engine.services.staff_scope import get_visible_customer
from tests.conftest import STAFF_PASSWORD


@pytest.fixture
def other_manager(ctx):
    """Manager B, next to `manager_staff` (manager A)."""
    return create_staff_user(ctx, "bo.manager@example.com", "Bo Manager", "manager", STAFF_PASSWORD)


def _customer(ctx, staff, name, **kw):
    return customers.create_customer(ctx, staff=staff, name=name, **kw)["id"]


def _associate(ctx, customer_id: int, employee_id: int) -> None:
    with ctx.uow() as uow:
        uow.session.add(CustomerEmployee(customer_id=customer_id, employee_id=employee_id))
        uow.commit()


def test_a_manager_becomes_account_manager_of_the_customers_it_creates(ctx, manager_staff, admin_staff):
    cid = _customer(ctx, manager_staff, "Acme Cleaning")
    with ctx.uow() as uow:
        assert get_visible_customer(uow.session, admin_staff, cid).account_manager_id == manager_staff.id


def test_a_manager_does_not_see_another_managers_customer(ctx, manager_staff, other_manager, admin_staff):
    own = _customer(ctx, manager_staff, "Acme Cleaning")
    theirs = _customer(ctx, other_manager, "Bolt Windows", contact_name="Bob", contact_email="bob@bolt.example")
    assert [c["id"] for c in customers.list_customers(ctx, include_archived=True, staff=manager_staff)] == [own]
    assert [c["id"] for c in customers.list_customers(ctx, search="bolt", staff=manager_staff)] == []
    assert [c["id"] for c in customers.list_customers(ctx, include_archived=True, staff=other_manager)] == [theirs]
    with pytest.raises(NotFound):
        customers.get_customer(ctx, theirs, staff=manager_staff)
    with pytest.raises(NotFound):
        customers.update_customer(ctx, theirs, staff=manager_staff, name="Hacked")
    with pytest.raises(NotFound):
        customers.add_contact(ctx, theirs, staff=manager_staff, name="Mallory", email="mallory@example.com")
    with pytest.raises(NotFound):
        jobs.create_job(ctx, theirs, staff=manager_staff, name="Hijack")
    with pytest.raises(NotFound):
        customers.archive_customer(ctx, theirs, staff=manager_staff)
    with pytest.raises(NotFound):
        customers.set_portal_access(ctx, theirs, True, staff=manager_staff)
    contact_id = customers.get_customer(ctx, theirs, staff=other_manager)["contacts"][0]["id"]
    with pytest.raises(NotFound):
        customers.update_contact(ctx, contact_id, staff=manager_staff, name="Hacked")
    with pytest.raises(NotFound):
        customers.remove_contact(ctx, contact_id, staff=manager_staff)
    got = customers.get_customer(ctx, theirs, staff=admin_staff)  # nothing changed
    assert (got["name"], got["archived"], got["portal_access"]) == ("Bolt Windows", False, False)
    assert [c["name"] for c in got["contacts"]] == ["Bob"]
    assert jobs.list_jobs(ctx, theirs, staff=admin_staff) == []


def test_a_manager_sees_another_account_managers_customer_once_it_manages_a_job_of_it(
        ctx, manager_staff, other_manager, admin_staff):
    theirs = _customer(ctx, other_manager, "Bolt Windows")
    unrelated = _customer(ctx, other_manager, "Clean Co")
    jobs.create_job(ctx, unrelated, staff=other_manager, name="Not A's job", manager_id=other_manager.id)
    with pytest.raises(NotFound):
        customers.get_customer(ctx, theirs, staff=manager_staff)
    job = jobs.create_job(ctx, theirs, staff=other_manager, name="Windows, December", manager_id=manager_staff.id)
    assert [c["id"] for c in customers.list_customers(ctx, staff=manager_staff)] == [theirs]
    assert customers.get_customer(ctx, theirs, staff=manager_staff)["name"] == "Bolt Windows"
    assert [j["id"] for j in jobs.list_jobs(ctx, staff=manager_staff)] == [job["id"]]
    customers.add_contact(ctx, theirs, staff=manager_staff, name="Ann", email="ann@bolt.example")
    second = jobs.create_job(ctx, theirs, staff=manager_staff, name="Windows, January")
    assert {j["id"] for j in jobs.list_jobs(ctx, theirs, staff=manager_staff)} == {job["id"], second["id"]}
    with pytest.raises(NotFound):
        customers.get_customer(ctx, unrelated, staff=manager_staff)
    # the account manager keeps seeing it, and the admin sees everything
    assert [c["id"] for c in customers.list_customers(ctx, staff=other_manager)] == [theirs, unrelated]
    assert len(jobs.list_jobs(ctx, staff=admin_staff)) == 3


def test_an_admin_sees_every_customer(ctx, admin_staff, manager_staff, other_manager):
    ids = [_customer(ctx, manager_staff, "Acme Cleaning"), _customer(ctx, other_manager, "Bolt Windows"),
           _customer(ctx, admin_staff, "Clean Co")]
    customers.archive_customer(ctx, ids[1], staff=other_manager)
    assert [c["id"] for c in customers.list_customers(ctx, staff=admin_staff)] == [ids[0], ids[2]]
    assert [c["id"] for c in customers.list_customers(ctx, include_archived=True, staff=admin_staff)] == ids
    for cid in ids:
        assert customers.get_customer(ctx, cid, staff=admin_staff)["id"] == cid
    customers.update_customer(ctx, ids[0], staff=admin_staff, name="Acme BV")
    job = jobs.create_job(ctx, ids[0], staff=admin_staff, name="Windows", manager_id=manager_staff.id)
    assert customers.get_customer(ctx, ids[0], staff=manager_staff)["name"] == "Acme BV"
    assert [j["id"] for j in jobs.list_jobs(ctx, staff=admin_staff)] == [job["id"]]
    with pytest.raises(NotFound):  # the admin's own customer is not the managers'
        customers.get_customer(ctx, ids[2], staff=manager_staff)


@pytest.mark.parametrize("call", [
    lambda ctx, staff, cid: customers.list_customers(ctx, include_archived=True, staff=staff),
    lambda ctx, staff, cid: customers.create_customer(ctx, staff=staff, name="X"),
    lambda ctx, staff, cid: customers.get_customer(ctx, cid, staff=staff),
    lambda ctx, staff, cid: customers.update_customer(ctx, cid, staff=staff, name="Hacked"),
    lambda ctx, staff, cid: customers.archive_customer(ctx, cid, staff=staff),
    lambda ctx, staff, cid: customers.restore_customer(ctx, cid, staff=staff),
    lambda ctx, staff, cid: customers.set_portal_access(ctx, cid, True, staff=staff),
    lambda ctx, staff, cid: customers.add_contact(ctx, cid, staff=staff, name="Eve"),
    lambda ctx, staff, cid: jobs.list_jobs(ctx, cid, staff=staff),
    lambda ctx, staff, cid: jobs.list_job_managers(ctx, staff=staff),
    lambda ctx, staff, cid: jobs.create_job(ctx, cid, staff=staff, name="X"),
])
def test_an_employee_is_not_allowed_even_for_its_own_customer(ctx, employee_staff, manager_staff, admin_staff,
                                                               call):
    cid = _customer(ctx, manager_staff, "Acme Cleaning", contact_name="Ann", contact_email="ann@acme.example")
    _associate(ctx, cid, employee_staff.id)
    with pytest.raises(NotAllowed):
        call(ctx, employee_staff, cid)
    got = customers.get_customer(ctx, cid, staff=admin_staff)
    assert (got["name"], got["archived"], got["portal_access"], len(got["contacts"])) == (
        "Acme Cleaning", False, False, 1)
    assert jobs.list_jobs(ctx, staff=admin_staff) == []
    assert [c["id"] for c in customers.list_customers(ctx, include_archived=True, staff=admin_staff)] == [cid]


@pytest.mark.parametrize("call", [
    lambda ctx, staff, contact_id: customers.update_contact(ctx, contact_id, staff=staff, name="Hacked"),
    lambda ctx, staff, contact_id: customers.remove_contact(ctx, contact_id, staff=staff),
])
def test_an_employee_may_not_change_contacts(ctx, employee_staff, manager_staff, admin_staff, call):
    cid = _customer(ctx, manager_staff, "Acme Cleaning", contact_name="Ann")
    _associate(ctx, cid, employee_staff.id)
    contact_id = customers.get_customer(ctx, cid, staff=admin_staff)["contacts"][0]["id"]
    with pytest.raises(NotAllowed):
        call(ctx, employee_staff, contact_id)
    assert [c["name"] for c in customers.get_customer(ctx, cid, staff=admin_staff)["contacts"]] == ["Ann"]


def test_an_employees_scope_is_the_customers_it_is_associated_with(ctx, employee_staff, manager_staff):
    works_there = _customer(ctx, manager_staff, "Acme Cleaning")
    elsewhere = _customer(ctx, manager_staff, "Bolt Windows")
    _associate(ctx, works_there, employee_staff.id)
    with ctx.uow() as uow:
        assert get_visible_customer(uow.session, employee_staff, works_there).id == works_there
        with pytest.raises(NotFound):
            get_visible_customer(uow.session, employee_staff, elsewhere)


def test_an_unknown_customer_is_not_found_for_any_office_role(ctx, admin_staff, manager_staff):
    for staff in (admin_staff, manager_staff):
        with ctx.uow() as uow, pytest.raises(NotFound):
            get_visible_customer(uow.session, staff, 999999)
