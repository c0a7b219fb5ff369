"""One-click decision links from e-mails that have been used (a link decides once; the token is not stored)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class EmailLinkUse(Base):
    """The SHA-256 of a used link's token: the primary key makes a second use fail, even in a race."""

    __tablename__ = "email_link_use"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[int] = mapped_column(index=True)
    contact_id: Mapped[int]
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)
