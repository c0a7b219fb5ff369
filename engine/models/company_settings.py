"""The company's settings: the default approval policy and what contacts may see in the portal (one row, id 1)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime

PERIOD_END_ACTIONS = ("auto_approve", "escalate")


class CompanySettings(Base):
    __tablename__ = "company_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_approval_enabled: Mapped[bool] = mapped_column(default=True)
    approval_period: Mapped[str] = mapped_column(String(40), default="P7D")
    reminder_interval: Mapped[str] = mapped_column(String(40), default="P2D")
    period_end_action: Mapped[str] = mapped_column(String(20), default="auto_approve")
    minimum_resume_period: Mapped[str] = mapped_column(String(40), default="P1D")
    portal_shows_hours: Mapped[bool] = mapped_column(default=True)
    portal_shows_expenses: Mapped[bool] = mapped_column(default=True)
    portal_shows_mileage: Mapped[bool] = mapped_column(default=True)
    portal_shows_visits: Mapped[bool] = mapped_column(default=True)
    portal_shows_invoices: Mapped[bool] = mapped_column(default=True)
    portal_shows_quotes: Mapped[bool] = mapped_column(default=True)
    # request and reminder mails carry signed one-click Approve / Reject links (engine.services.email_decisions)
    email_one_click_decisions: Mapped[bool] = mapped_column(default=False)
    # a visit checked out becomes an hours registration by itself (engine.services.visit_hours); off by default
    visits_become_hours: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
