"""What the shipped handlers record during engine steps, for the runtime's save to apply once.

"Handlers compute, the runtime writes": no handler touches the database. A case status carried to the job
and the registrations is net-effect data (the last status of the transaction wins, and the last customer
comment), so however many service tasks ran, the save writes each table once, set-based. When the
engine steps fail, the record is dropped with them: nothing was applied.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CaseStatus:
    """The case status to carry to the job and the registrations linked to the instance."""

    status: str
    registration_status: str
    final: bool  # registrations the contact decided on their own keep that verdict
    at: datetime


@dataclass
class CaseWrites:
    """The domain writes of one transaction's service tasks, in memory until the save."""

    status: CaseStatus | None = None
    comment: str | None = None  # the customer's comment, for registrations without a verdict of their own
    mails: list[dict[str, Any]] = field(default_factory=list)  # outbox rows without the instance id

    def set_status(self, status: CaseStatus, comment: str | None) -> None:
        self.status = status
        if comment is not None:
            self.comment = comment

    def queue_mail(self, template: str, audience: str, recipient: str | None, context: dict[str, Any],
                   at: datetime) -> None:
        self.mails.append({"template": template, "audience": audience, "recipient": recipient,
                           "context": context, "created_at": at})

    def __bool__(self) -> bool:
        return self.status is not None or bool(self.mails)
