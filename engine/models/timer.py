"""What fires when: one row per waiting timer event of an instance.

`claimed_until` is a sweeper's lease: while it lies ahead, other sweepers leave the row alone; a sweeper that
dies mid-batch leaves its unfired rows to the next one when the lease runs out (engine.services.timers).
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_element", "element_id", "instance_id"),)  # a diagram's counts (0023)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
