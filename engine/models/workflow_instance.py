"""A running (or finished) process instance: SpiffWorkflow state in one row, with a version counter."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"


class WorkflowInstance(Base):
    __tablename__ = "workflow_instance"
    # the Customer Approval board and the case lists: newest first, per customer or case status (migration 0015;
    # case_type instead of process_id since 0018)
    __table_args__ = (Index("ix_workflow_instance_board", "customer_id", "case_status", "status", "case_type",
                            "created_at", "id"),
                      Index("ix_workflow_instance_case_status_created", "case_status", "created_at", "id"),
                      Index("ix_workflow_instance_created", "created_at", "id"),
                      # the case list by its narrowing filters, newest first (migration 0023)
                      Index("ix_workflow_instance_process_created", "process_id", "created_at", "id"),
                      Index("ix_workflow_instance_version_created", "process_version_id", "created_at", "id"),
                      Index("ix_workflow_instance_status_created", "status", "created_at", "id"),
                      Index("ix_workflow_instance_customer_created", "customer_id", "created_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    # which approval this is ("job" | "timesheet", engine.services.bindings.CASE_TYPES); NULL: not an approval
    case_type: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=InstanceStatus.RUNNING, index=True)
    case_status: Mapped[str | None] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element: Mapped[str | None] = mapped_column(String(200))
    lock_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # who sent the work (a staff member starting it), for the separation of duties rule "sender" (0022)
    started_by_staff_id: Mapped[int | None] = mapped_column()

    __mapper_args__ = {"version_id_col": lock_version}
