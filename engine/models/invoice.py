"""Invoices and quotes of a customer (one table: a quote is an invoice-like document with its own statuses)."""

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    QUOTE = "quote"


INVOICE_STATUSES = ("draft", "sent", "paid", "overdue")
QUOTE_STATUSES = ("sent", "accepted", "declined")


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("kind", "number", name="uq_invoice_kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(50))
    issued_on: Mapped[date]
    amount_cents: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    pdf_file: Mapped[str | None] = mapped_column(String(100))
    pdf_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
