"""Work registered on a job: hours, expenses and mileage, each with its approval status.

One table for the three kinds, so a timesheet, a project view and a bulk decision can list and
update them together. The status changes only through the approval processes (case.set_status).
"""

import enum
from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class RegistrationKind(enum.StrEnum):
    HOURS = "hours"
    EXPENSE = "expense"
    MILEAGE = "mileage"


class ApprovalStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    QUERIED = "queried"


class Registration(Base):
    __tablename__ = "registration"
    __table_args__ = (Index("ux_registration_visit", "visit_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    work_date: Mapped[date] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # hours: start/end (both or neither) and the duration in minutes
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    minutes: Mapped[int | None]
    # expense: amount in cents and the receipt (a stored file name from engine.storage)
    amount_cents: Mapped[int | None]
    receipt_file: Mapped[str | None] = mapped_column(String(100))
    receipt_name: Mapped[str | None] = mapped_column(String(255))
    # mileage
    distance_km: Mapped[float | None]
    from_place: Mapped[str | None] = mapped_column(String(200))
    to_place: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ApprovalStatus.DRAFT, index=True)
    approval_instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    customer_comment: Mapped[str | None] = mapped_column(Text)
    # the contact's own verdict on this one registration inside a timesheet under review ("approve"/"reject");
    # when the case ends, it decides this registration's status (engine.service_tasks.handlers)
    customer_decision: Mapped[str | None] = mapped_column(String(20))
    # the visit these hours were made from (engine.services.visit_hours): unique, so a visit becomes hours once
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
