"""Out-of-office delegation: a staff member names a stand-in for a period (both days included)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class Delegation(Base):
    __tablename__ = "delegation"
    # "whom do I stand in for today": the inbox and complete_locked ask it per stand-in (migration 0022)
    __table_args__ = (Index("ix_delegation_stand_in_period", "stand_in_id", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
