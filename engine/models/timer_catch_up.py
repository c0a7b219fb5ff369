"""Per timer of a case, what the sweeper does with a reminder missed while no worker ran: replay it once or skip it.

Keyed by instance and element, not by timer row: a repeating timer's row is replaced each time it fires.
"""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class CatchUp(enum.StrEnum):
    REPLAY = "replay"  # the default: a missed reminder is sent once when the sweeper comes back
    SKIP = "skip"  # a missed reminder is dropped; the next one comes on time


class TimerCatchUp(Base):
    __tablename__ = "timer_catch_up"

    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    choice: Mapped[str] = mapped_column(String(20))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
