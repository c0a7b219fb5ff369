"""Journal, resources, associated employees, messages, vCards and customer settings (engine services)."""

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import OutboxMessage
from engine.services import customer_extras as extras
from engine.services import customers
from engine.services.staff_auth import create_staff_user

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(ctx):
    return create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)


@pytest.fixture
def manager(ctx):
    return create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)


@pytest.fixture
def employee(ctx):
    return create_staff_user(ctx, "eli@example.com", "Eli Employee", "employee", PASSWORD)


@pytest.fixture
def customer(ctx, manager):
    return customers.create_customer(ctx, staff=manager, name="Acme Cleaning", contact_name="Ann Smith",
                                     contact_email="ann@acme.example", contact_mobile="+31 6 1234 5678")


def _outbox(ctx) -> list[OutboxMessage]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(OutboxMessage)))


def test_journal_delete_rules(ctx, admin, manager, customer):
    own = extras.add_journal_entry(ctx, customer["id"], staff=manager, text="  Called about the keys.  ")
    admins = extras.add_journal_entry(ctx, customer["id"], staff=admin, text="Payment terms 14 days.")
    assert own["text"] == "Called about the keys." and own["author_name"] == "Mia Manager"
    assert [e["id"] for e in extras.list_journal(ctx, customer["id"], staff=manager)] == [admins["id"], own["id"]]

    with pytest.raises(NotAllowed):
        extras.delete_journal_entry(ctx, admins["id"], staff=manager)
    extras.delete_journal_entry(ctx, own["id"], staff=manager)
    other = extras.add_journal_entry(ctx, customer["id"], staff=manager, text="Second note")
    extras.delete_journal_entry(ctx, other["id"], staff=admin)
    extras.delete_journal_entry(ctx, admins["id"], staff=admin)
    assert extras.list_journal(ctx, customer["id"], staff=admin) == []


def test_journal_validation_and_scope(ctx, admin, manager, employee, customer):
    with pytest.raises(InvalidInput, match="text: required"):
        extras.add_journal_entry(ctx, customer["id"], staff=manager, text="   ")
    with pytest.raises(NotAllowed):
        extras.list_journal(ctx, customer["id"], staff=employee)
    theirs = customers.create_customer(ctx, staff=admin, name="Bolt Windows")
    with pytest.raises(NotFound):
        extras.add_journal_entry(ctx, theirs["id"], staff=manager, text="not mine")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example", "acme.example", "https://", ""])
def test_resource_link_must_be_http(ctx, manager, customer, url):
    with pytest.raises(InvalidInput, match="url: "):
        extras.add_resource_link(ctx, customer["id"], staff=manager, title="Site", url=url)
    assert extras.list_resources(ctx, customer["id"], staff=manager) == []


def test_resource_file_stored_under_generated_name_and_deleted(ctx, manager, customer):
    link = extras.add_resource_link(ctx, customer["id"], staff=manager, title="Floor plan",
                                    url="https://acme.example/plan")
    upload = extras.add_resource_file(ctx, customer["id"], staff=manager, title="", data=b"<script>x</script>",
                                      filename="../../evil.html")
    assert upload["title"] == "evil.html" and upload["is_file"] and not link["is_file"]
    path, name, content_type = extras.resource_file(ctx, upload["id"], staff=manager)
    assert name == "evil.html" and path.parent == ctx.files.root and path.name != "evil.html"
    assert path.read_bytes() == b"<script>x</script>" and content_type == "application/octet-stream"
    with pytest.raises(NotFound):
        extras.resource_file(ctx, link["id"], staff=manager)
    with pytest.raises(InvalidInput, match="file: the file is empty"):
        extras.add_resource_file(ctx, customer["id"], staff=manager, title="x", data=b"", filename="x.txt")
    extras.delete_resource(ctx, upload["id"], staff=manager)
    assert not path.exists()
    assert [r["id"] for r in extras.list_resources(ctx, customer["id"], staff=manager)] == [link["id"]]


def test_employees_must_be_active_employees(ctx, admin, manager, employee, customer):
    with pytest.raises(InvalidInput, match="employee_id"):
        extras.add_customer_employee(ctx, customer["id"], manager.id, staff=manager)
    extras.add_customer_employee(ctx, customer["id"], employee.id, staff=manager)
    extras.add_customer_employee(ctx, customer["id"], employee.id, staff=manager)  # twice is harmless
    assert [e["name"] for e in extras.list_customer_employees(ctx, customer["id"], staff=manager)] == ["Eli Employee"]
    extras.remove_customer_employee(ctx, customer["id"], employee.id, staff=manager)
    assert extras.list_customer_employees(ctx, customer["id"], staff=manager) == []
    with pytest.raises(NotFound):
        extras.remove_customer_employee(ctx, customer["id"], employee.id, staff=manager)


def test_message_queued_for_the_contact(ctx, manager, customer):
    contact = customers.get_customer(ctx, customer["id"], staff=manager)["contacts"][0]
    sent = extras.send_customer_message(ctx, customer["id"], staff=manager, contact_id=contact["id"],
                                        subject="Keys", body="<b>Reception</b> has them.")
    [row] = _outbox(ctx)
    assert sent["recipient"] == row.recipient == "ann@acme.example"
    assert row.template == "message_to_customer" and row.audience == "customer" and row.instance_id is None
    assert row.context["title"] == "Keys" and row.context["sender_name"] == "Mia Manager"


def test_message_refused_without_email_or_for_another_customer(ctx, manager, customer):
    no_mail = customers.add_contact(ctx, customer["id"], staff=manager, name="Bob")
    other = customers.create_customer(ctx, staff=manager, name="Bolt", contact_name="Cy", contact_email="cy@b.example")
    other_contact = customers.get_customer(ctx, other["id"], staff=manager)["contacts"][0]
    with pytest.raises(InvalidInput, match="contact_id: this contact has no e-mail address"):
        extras.send_customer_message(ctx, customer["id"], staff=manager, contact_id=no_mail["id"], subject="a",
                                     body="b")
    with pytest.raises(InvalidInput) as err:
        extras.send_customer_message(ctx, customer["id"], staff=manager, contact_id=other_contact["id"],
                                     subject="", body="")
    assert "contact_id: choose" in str(err.value) and "subject: required" in str(err.value)
    assert "body: required" in str(err.value)
    assert _outbox(ctx) == []


def test_vcard_escapes_special_characters(ctx, manager):
    created = customers.create_customer(ctx, staff=manager, name="Smith, Jones; Partners \\ Co",
                                        contact_name="Ann Smith", contact_email="ann@sj.example",
                                        contact_mobile="+31 6 1234 5678")
    contact = customers.get_customer(ctx, created["id"], staff=manager)["contacts"][0]
    vcard = extras.contact_vcard(ctx, contact["id"], staff=manager)
    lines = vcard.split("\r\n")
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"] and lines[-2:] == ["END:VCARD", ""]
    assert "N:Smith;Ann;;;" in lines and "FN:Ann Smith" in lines
    assert "ORG:Smith\\, Jones\\; Partners \\\\ Co" in lines
    assert "EMAIL;TYPE=INTERNET:ann@sj.example" in lines and "TEL;TYPE=CELL:+31 6 1234 5678" in lines


def test_vcard_escapes_newlines_and_folds_long_lines():
    from engine.services.customer_contact import _escape, _fold

    assert _escape("a\nb\r\nc,d;e\\f") == "a\\nb\\nc\\,d\\;e\\\\f"
    folded = _fold("ORG:" + "é" * 60)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "ORG:" + "é" * 60


def test_show_hours_overview_and_account_manager(ctx, admin, manager, customer):
    assert extras.set_show_hours_overview(ctx, customer["id"], True, staff=manager) is True
    assert customers.get_customer(ctx, customer["id"], staff=manager)["show_hours_overview"] is True
    with pytest.raises(NotAllowed):
        extras.set_account_manager(ctx, customer["id"], admin.id, staff=manager)
    employee = create_staff_user(ctx, "e2@example.com", "E Two", "employee", PASSWORD)
    with pytest.raises(InvalidInput, match="manager_id"):
        extras.set_account_manager(ctx, customer["id"], employee.id, staff=admin)
    extras.set_account_manager(ctx, customer["id"], admin.id, staff=admin)
    with pytest.raises(NotFound):  # no longer the manager's customer
        customers.get_customer(ctx, customer["id"], staff=manager)
