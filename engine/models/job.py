"""Jobs (projects) of a customer: a manager, a period and whether the customer approves the work."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    requires_customer_approval: Mapped[bool] = mapped_column(default=False)
    approval_status: Mapped[str] = mapped_column(String(40), default="draft")  # set by case.set_status
    approval_instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
