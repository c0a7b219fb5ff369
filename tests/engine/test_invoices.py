"""Invoices and quotes: number unique per kind, amounts in cents, statuses per kind, PDF checked by content."""

import pytest

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.services import customers, invoices
from engine.services.staff_auth import create_staff_user

PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def manager(ctx):
    return create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)


@pytest.fixture
def customer(ctx, manager):
    return customers.create_customer(ctx, staff=manager, name="Acme Cleaning")


def _create(ctx, staff, customer_id, **kwargs):
    values = {"kind": "invoice", "number": "2026-001", "issued_on": "2026-11-01", "amount": "1234.50",
              "status": "draft"} | kwargs
    return invoices.create_invoice(ctx, customer_id, staff=staff, **values)


@pytest.mark.parametrize(("text", "cents"), [("1234.50", 123450), ("1234,5", 123450), ("7", 700), ("0.05", 5)])
def test_parse_amount(text, cents):
    assert invoices.parse_amount(text) == cents
    assert invoices.format_amount(cents) == f"{cents // 100}.{cents % 100:02d}"


@pytest.mark.parametrize("text", ["", "-5", "1.234", "12a", "1,234.50"])
def test_parse_amount_refuses(text):
    with pytest.raises(ValueError):
        invoices.parse_amount(text)


def test_create_list_and_update(ctx, manager, customer):
    created = _create(ctx, manager, customer["id"])
    assert created["amount_cents"] == 123450 and created["amount"] == "1234.50" and not created["has_pdf"]
    quote = _create(ctx, manager, customer["id"], kind="quote", status="sent")  # same number, other kind
    assert [r["id"] for r in invoices.list_invoices(ctx, customer["id"], kind="quote", staff=manager)] == [quote["id"]]
    assert len(invoices.list_invoices(ctx, staff=manager)) == 2
    updated = invoices.update_invoice(ctx, created["id"], staff=manager, issued_on="2026-11-02", amount="99",
                                      status="paid")
    assert (updated["amount"], updated["status"], updated["issued_on"]) == ("99.00", "paid", "2026-11-02")
    assert invoices.invoice_totals(ctx, customer["id"], staff=manager) == {"invoice": "99.00", "quote": "1234.50"}


def test_number_unique_per_kind(ctx, manager, customer):
    _create(ctx, manager, customer["id"])
    with pytest.raises(InvalidInput, match="number: already used"):
        _create(ctx, manager, customer["id"], number="2026-001")
    assert len(invoices.list_invoices(ctx, customer["id"], staff=manager)) == 1


def test_number_race_gives_already_used(ctx, manager, customer, monkeypatch):
    """A concurrent create that passed the pre-check too: the unique constraint decides, with the same message."""
    from sqlalchemy.orm import Session

    _create(ctx, manager, customer["id"])
    real_scalar = Session.scalar

    def precheck_misses(self, statement, *args, **kwargs):  # as if the other insert committed just after it
        return None if "invoice.kind" in str(statement) else real_scalar(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "scalar", precheck_misses)
    with pytest.raises(InvalidInput, match="^number: already used$"):
        _create(ctx, manager, customer["id"], pdf_data=PDF, pdf_name="a.pdf")
    monkeypatch.undo()
    assert len(invoices.list_invoices(ctx, customer["id"], staff=manager)) == 1
    assert not any(ctx.files.root.iterdir())  # the PDF of the refused insert was removed


def test_bad_input_reports_every_field_and_saves_nothing(ctx, manager, customer):
    with pytest.raises(InvalidInput) as err:
        _create(ctx, manager, customer["id"], number="", issued_on="1 Nov", amount="12.345", status="accepted",
                pdf_data=b"just text", pdf_name="x.pdf")
    message = str(err.value)
    for problem in ("number: required", "issued_on: not a date", "amount: not an amount", "status: must be one of",
                    "pdf: x.pdf is not a valid PDF file"):
        assert problem in message
    assert invoices.list_invoices(ctx, customer["id"], staff=manager) == []
    assert not ctx.files.root.exists() or not any(ctx.files.root.iterdir())


def test_pdf_attach_replace_and_download(ctx, manager, customer):
    created = _create(ctx, manager, customer["id"], pdf_data=PDF, pdf_name="inv 1.pdf")
    first_path, name, content_type = invoices.pdf_file(ctx, created["id"], staff=manager)
    assert name == "inv 1.pdf" and content_type == "application/pdf" and first_path.name != name
    with pytest.raises(InvalidInput, match="pdf: x.pdf is not a valid PDF file"):
        invoices.attach_pdf(ctx, created["id"], staff=manager, data=b"hello", filename="x.pdf")
    invoices.attach_pdf(ctx, created["id"], staff=manager, data=PDF, filename="inv 1 v2.pdf")
    path, name, _ = invoices.pdf_file(ctx, created["id"], staff=manager)
    assert name == "inv 1 v2.pdf" and path.read_bytes() == PDF and not first_path.exists()


def test_scope_and_roles(ctx, manager, customer):
    admin = create_staff_user(ctx, "ada@example.com", "Ada", "admin", PASSWORD)
    employee = create_staff_user(ctx, "eli@example.com", "Eli", "employee", PASSWORD)
    theirs = customers.create_customer(ctx, staff=admin, name="Bolt Windows")
    doc = _create(ctx, admin, theirs["id"])
    with pytest.raises(NotFound):
        invoices.get_invoice(ctx, doc["id"], staff=manager)
    with pytest.raises(NotFound):
        invoices.get_invoice(ctx, doc["id"], staff=admin, customer_id=customer["id"])
    with pytest.raises(NotFound):
        _create(ctx, manager, theirs["id"], number="X")
    with pytest.raises(NotAllowed):
        invoices.list_invoices(ctx, staff=employee)
    assert invoices.list_invoices(ctx, staff=manager) == []
