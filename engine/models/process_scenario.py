"""A saved dry-run scenario of a process: its steps and where it ended when it was saved."""

from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class ProcessScenario(Base):
    __tablename__ = "process_scenario"
    __table_args__ = (UniqueConstraint("process_id", "name", name="uq_process_scenario_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list] = mapped_column(JSON)
    start_data: Mapped[dict | None] = mapped_column(JSON)  # start variables over the sample case's (None: as is)
    expected: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime)
