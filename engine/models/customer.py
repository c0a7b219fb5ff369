"""Customers of the service company and their contact persons (archived, never deleted)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    billing_address: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(default=False)
    # the manager who looks after the customer; a manager sees its own customers and those of its jobs
    account_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    portal_access: Mapped[bool] = mapped_column(default=False)
    show_hours_overview: Mapped[bool] = mapped_column(default=False)
    # approval policy overrides; None = the company default (engine.models.company_settings)
    approval_period: Mapped[str | None] = mapped_column(String(40))
    reminder_interval: Mapped[str | None] = mapped_column(String(40))
    period_end_action: Mapped[str | None] = mapped_column(String(20))
    # which mails its contacts get (engine.services.customer_notifications); all on by default
    mail_approval_requests: Mapped[bool] = mapped_column(default=True)
    mail_reminders: Mapped[bool] = mapped_column(default=True)
    mail_answers: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    mobile: Mapped[str] = mapped_column(String(50), default="")
    # named approver; when no contact of the customer is named, every contact with an e-mail address approves
    approver: Mapped[bool] = mapped_column(default=False)
