"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from engine.models.base import Base
from engine.models.company_settings import PERIOD_END_ACTIONS, CompanySettings
from engine.models.customer import Contact, Customer
from engine.models.customer_extras import CustomerEmployee, CustomerResource, JournalEntry
from engine.models.delegation import Delegation
from engine.models.email_link import EmailLinkUse
from engine.models.email_template import EmailTemplate
from engine.models.human_task import HumanTask, HumanTaskStatus
from engine.models.instance_event import InstanceEvent
from engine.models.invoice import INVOICE_STATUSES, QUOTE_STATUSES, DocumentKind, Invoice
from engine.models.job import Job
from engine.models.outbox import OutboxMessage, OutboxStatus
from engine.models.portal_auth import PortalLoginCode, PortalSession, PortalThrottleEvent
from engine.models.process_binding import ProcessBinding
from engine.models.process_scenario import ProcessScenario
from engine.models.process_version import ProcessVersion
from engine.models.registration import ApprovalStatus, Registration, RegistrationKind
from engine.models.staff_session import StaffSession
from engine.models.staff_user import StaffRole, StaffUser
from engine.models.timer import Timer
from engine.models.timer_catch_up import CatchUp, TimerCatchUp
from engine.models.visit import Visit, VisitPhoto
from engine.models.worker_heartbeat import WorkerHeartbeat
from engine.models.workflow_instance import InstanceStatus, WorkflowInstance

__all__ = [
    "Base", "EmailLinkUse", "EmailTemplate", "HumanTask", "HumanTaskStatus", "InstanceEvent", "InstanceStatus",
    "OutboxMessage", "OutboxStatus", "ProcessBinding", "ProcessScenario", "ProcessVersion", "Timer", "WorkflowInstance",
    "CatchUp", "TimerCatchUp",
    "StaffRole", "StaffSession", "StaffUser",
    "Contact", "Customer", "Job", "CompanySettings", "PERIOD_END_ACTIONS",
    "CustomerEmployee", "CustomerResource", "JournalEntry",
    "DocumentKind", "Invoice", "INVOICE_STATUSES", "QUOTE_STATUSES",
    "ApprovalStatus", "Registration", "RegistrationKind", "Visit", "VisitPhoto",
    "PortalLoginCode", "PortalSession", "PortalThrottleEvent",
    "WorkerHeartbeat", "Delegation",
]
