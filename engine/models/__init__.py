"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from engine.models.base import Base
from engine.models.customer import Contact, Customer
from engine.models.email_template import EmailTemplate
from engine.models.human_task import HumanTask, HumanTaskStatus
from engine.models.instance_event import InstanceEvent
from engine.models.job import Job
from engine.models.outbox import OutboxMessage, OutboxStatus
from engine.models.process_version import ProcessVersion
from engine.models.staff_session import StaffSession
from engine.models.staff_user import StaffRole, StaffUser
from engine.models.timer import Timer
from engine.models.workflow_instance import InstanceStatus, WorkflowInstance

__all__ = [
    "Base", "EmailTemplate", "HumanTask", "HumanTaskStatus", "InstanceEvent", "InstanceStatus",
    "OutboxMessage", "OutboxStatus", "ProcessVersion", "Timer", "WorkflowInstance",
    "StaffRole", "StaffSession", "StaffUser",
    "Contact", "Customer", "Job",
]
