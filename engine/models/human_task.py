"""Inbox rows: a ready user task, who may complete it, and what happened to it."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class HumanTaskStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HumanTask(Base):
    __tablename__ = "human_task"
    # the inbox and the portal: open tasks of a lane and customer by deadline (migration 0015)
    __table_args__ = (Index("ix_human_task_open_lane_customer_due", "status", "role", "customer_id", "due_at", "id"),
                      # a diagram's counts and times per element (migration 0023)
                      Index("ix_human_task_element_status", "element_id", "status", "instance_id"),
                      # the inbox: open tasks in its order, deadline first, none last (migration 0024)
                      Index("ix_human_task_open_deadline", text("(due_at IS NULL)"), "due_at", "id",
                            postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(40), index=True)
    customer_id: Mapped[int | None] = mapped_column(index=True)
    form: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=HumanTaskStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    # operator actions and rules (migration 0022): claimed or reassigned to one staff member; the stand-in's
    # completion names whom it stood in for; the user task's declared separation of duties ("sender,...")
    assignee_staff_id: Mapped[int | None] = mapped_column(index=True)
    on_behalf_of: Mapped[str | None] = mapped_column(String(200))
    separation: Mapped[str | None] = mapped_column(String(100))
