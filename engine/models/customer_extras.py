"""What staff keep about a customer besides its contacts: the journal, resources and associated employees."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class JournalEntry(Base):
    """An internal note; never shown in the portal."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerResource(Base):
    """An uploaded file (stored_name set) or a hyperlink (url set)."""

    __tablename__ = "customer_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    stored_name: Mapped[str | None] = mapped_column(String(100))
    original_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None]
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerEmployee(Base):
    """An employee associated with a customer (works there; sees it in its lists)."""

    __tablename__ = "customer_employee"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
