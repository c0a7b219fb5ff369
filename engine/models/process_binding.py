"""Which process approves a case type: a company default (customer_id NULL), overridable per customer."""

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class ProcessBinding(Base):
    __tablename__ = "process_binding"
    # NULL is not equal to NULL in a unique constraint (SQLite and PostgreSQL alike), so the company default
    # (customer_id NULL) gets a partial unique index of its own: one per case type
    __table_args__ = (UniqueConstraint("case_type", "customer_id", name="uq_process_binding_customer"),
                      Index("uq_process_binding_company", "case_type", unique=True,
                            sqlite_where=text("customer_id IS NULL"),
                            postgresql_where=text("customer_id IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    bound_by: Mapped[str] = mapped_column(String(200))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)
