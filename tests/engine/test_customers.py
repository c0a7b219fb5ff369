"""Customers, contacts and jobs use cases on SQLite and PostgreSQL: validation, archive, portal access, queries."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.services import customers, jobs
from engine.services.staff_auth import create_staff_user


@contextmanager
def count_statements(ctx):
    counter = {"n": 0}

    def before(*_args):
        counter["n"] += 1

    event.listen(ctx.db, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(ctx.db, "before_cursor_execute", before)


def _new(ctx, staff, name="Acme Cleaning", **kw):
    return customers.create_customer(ctx, staff=staff, name=name, **kw)


def test_create_customer_with_a_first_contact(ctx, admin_staff, manager_staff):
    created = _new(ctx, manager_staff, website="https://acme.example", billing_address="1 Main St",
                   contact_name="Ann", contact_email=" Ann@Acme.Example ", contact_mobile="+31 6 1234 5678")
    got = customers.get_customer(ctx, created["id"], staff=admin_staff)
    assert got["name"] == "Acme Cleaning" and got["website"] == "https://acme.example"
    assert not got["archived"] and not got["portal_access"]
    assert [(c["name"], c["email"]) for c in got["contacts"]] == [("Ann", "ann@acme.example")]


def test_invalid_customer_lists_every_field_problem_and_saves_nothing(ctx, manager_staff):
    with pytest.raises(InvalidInput) as err:
        _new(ctx, manager_staff, name=" ", website="ftp://acme.example", contact_name="Bob",
             contact_email="not-an-email")
    assert str(err.value) == ("name: required; website: must be a web address starting with http:// or https://; "
                              "contact_email: not an e-mail address")
    assert customers.list_customers(ctx, include_archived=True, staff=manager_staff) == []


def test_name_longer_than_200_is_refused(ctx, manager_staff):
    with pytest.raises(InvalidInput, match="name: at most 200 characters"):
        _new(ctx, manager_staff, name="x" * 201)


def test_update_customer_validates_and_changes_fields(ctx, manager_staff):
    cid = _new(ctx, manager_staff)["id"]
    with pytest.raises(InvalidInput, match="website: must be a web address"):
        customers.update_customer(ctx, cid, staff=manager_staff, name="Acme", website="acme.example")
    customers.update_customer(ctx, cid, staff=manager_staff, name="Acme BV", website="http://acme.example",
                              comment="VIP", show_hours_overview=True)
    got = customers.get_customer(ctx, cid, staff=manager_staff)
    assert (got["name"], got["comment"], got["show_hours_overview"]) == ("Acme BV", "VIP", True)


def test_archive_hides_from_the_list_and_restore_brings_back(ctx, manager_staff):
    cid = _new(ctx, manager_staff)["id"]
    customers.add_contact(ctx, cid, staff=manager_staff, name="Ann", email="ann@acme.example")
    customers.set_portal_access(ctx, cid, True, staff=manager_staff)
    customers.archive_customer(ctx, cid, staff=manager_staff)
    assert customers.list_customers(ctx, staff=manager_staff) == []
    archived = customers.list_customers(ctx, include_archived=True, staff=manager_staff)
    assert archived[0]["archived"] and not archived[0]["portal_access"]
    customers.restore_customer(ctx, cid, staff=manager_staff)
    assert [c["id"] for c in customers.list_customers(ctx, staff=manager_staff)] == [cid]


def test_portal_access_needs_a_contact_with_email_and_can_be_revoked(ctx, manager_staff):
    cid = _new(ctx, manager_staff)["id"]
    with pytest.raises(InvalidInput, match="portal_access: add a contact"):
        customers.set_portal_access(ctx, cid, True, staff=manager_staff)
    customers.add_contact(ctx, cid, staff=manager_staff, name="Ann", email="ann@acme.example")
    assert customers.set_portal_access(ctx, cid, True, staff=manager_staff)["portal_access"] is True
    assert customers.set_portal_access(ctx, cid, False, staff=manager_staff)["portal_access"] is False


def test_contacts_add_update_remove_with_validation(ctx, manager_staff):
    cid = _new(ctx, manager_staff)["id"]
    with pytest.raises(InvalidInput) as err:
        customers.add_contact(ctx, cid, staff=manager_staff, name="", email="x@", mobile="call me")
    assert str(err.value) == "name: required; email: not an e-mail address; mobile: not a phone number"
    contact = customers.add_contact(ctx, cid, staff=manager_staff, name="Ann", email="ann@acme.example")
    customers.update_contact(ctx, contact["id"], staff=manager_staff, name="Ann B", email="annb@acme.example",
                             mobile="0612345678")
    assert customers.get_customer(ctx, cid, staff=manager_staff)["contacts"][0]["email"] == "annb@acme.example"
    assert customers.remove_contact(ctx, contact["id"], staff=manager_staff)["customer_id"] == cid
    assert customers.get_customer(ctx, cid, staff=manager_staff)["contacts"] == []
    with pytest.raises(NotFound):
        customers.remove_contact(ctx, contact["id"], staff=manager_staff)


def test_search_matches_name_case_insensitively_and_escapes_wildcards(ctx, manager_staff):
    _new(ctx, manager_staff, name="Acme Cleaning")
    _new(ctx, manager_staff, name="Bolt Windows")
    assert [c["name"] for c in customers.list_customers(ctx, search="acme", staff=manager_staff)] == ["Acme Cleaning"]
    assert customers.list_customers(ctx, search="%", staff=manager_staff) == []


def test_listing_twenty_customers_runs_one_statement(ctx, manager_staff):
    for i in range(20):
        cid = _new(ctx, manager_staff, name=f"Customer {i:02}")["id"]
        customers.add_contact(ctx, cid, staff=manager_staff, name="Ann")
        customers.add_contact(ctx, cid, staff=manager_staff, name="Bob")
    with count_statements(ctx) as counter:
        listed = customers.list_customers(ctx, staff=manager_staff)
    assert len(listed) == 20 and all(c["contact_count"] == 2 for c in listed)
    assert counter["n"] <= 2  # the SELECT (plus SQLite's BEGIN IMMEDIATE), never one per customer


@pytest.mark.parametrize("call", [
    lambda ctx, staff: customers.list_customers(ctx, staff=staff),
    lambda ctx, staff: customers.create_customer(ctx, staff=staff, name="X"),
    lambda ctx, staff: customers.get_customer(ctx, 1, staff=staff),
    lambda ctx, staff: jobs.list_jobs(ctx, staff=staff),
    lambda ctx, staff: jobs.create_job(ctx, 1, staff=staff, name="X"),
])
def test_employees_are_not_allowed(ctx, employee_staff, call):
    with pytest.raises(NotAllowed):
        call(ctx, employee_staff)


def test_unknown_customer_is_not_found(ctx, manager_staff):
    with pytest.raises(NotFound):
        customers.get_customer(ctx, 999, staff=manager_staff)
    with pytest.raises(NotFound):
        customers.archive_customer(ctx, 999, staff=manager_staff)
    with pytest.raises(NotFound):
        jobs.create_job(ctx, 999, staff=manager_staff, name="X")


def test_create_and_list_jobs(ctx):
    manager = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", "correct horse battery")
    cid = _new(ctx, manager)["id"]
    other = _new(ctx, manager, name="Bolt")["id"]
    job = jobs.create_job(ctx, cid, staff=manager, name="Windows, December", manager_id=manager.id,
                          period_start="2026-12-01", period_end="2026-12-31", requires_customer_approval=True)
    jobs.create_job(ctx, other, staff=manager, name="Other")
    listed = jobs.list_jobs(ctx, cid, staff=manager)
    assert [j["id"] for j in listed] == [job["id"]]
    assert listed[0]["manager_name"] == "Mia Manager" and listed[0]["customer_name"] == "Acme Cleaning"
    assert listed[0]["period_start"] == "2026-12-01" and listed[0]["requires_customer_approval"] is True
    assert len(jobs.list_jobs(ctx, staff=manager)) == 2
    assert [m["name"] for m in jobs.list_job_managers(ctx, staff=manager)] == ["Mia Manager"]
    assert customers.list_customers(ctx, search="acme", staff=manager)[0]["job_count"] == 1


def test_invalid_job_lists_every_problem(ctx, manager_staff):
    employee = create_staff_user(ctx, "eli@example.com", "Eli", "employee", "correct horse battery")
    cid = _new(ctx, manager_staff)["id"]
    with pytest.raises(InvalidInput) as err:
        jobs.create_job(ctx, cid, staff=manager_staff, name="", manager_id=employee.id, period_start="2026-12-31",
                        period_end="2026-12-01")
    assert str(err.value) == ("name: required; period_end: must not be before the start; "
                              "manager_id: not an active admin or manager")
    with pytest.raises(InvalidInput, match="period_start: not a date"):
        jobs.create_job(ctx, cid, staff=manager_staff, name="X", period_start="31-12-2026")
    customers.archive_customer(ctx, cid, staff=manager_staff)
    with pytest.raises(InvalidInput, match="customer: archived"):
        jobs.create_job(ctx, cid, staff=manager_staff, name="X")
    assert jobs.list_jobs(ctx, staff=manager_staff) == []
