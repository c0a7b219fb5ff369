"""The deployed processes and their versions, read-only, for managers and admins.

Per version: who deployed it and when, the file's hash, and how many instances (in the actor's scope) are
running, completed or in error: one GROUP BY query, no instance state loaded. Also what a modeller offers:
the registered service-task operations and the variables the processes receive at start.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from engine.errors import NotAllowed, NotFound
from engine.models import ProcessVersion, WorkflowInstance
from engine.models.workflow_instance import InstanceStatus
from engine.service_tasks import handlers  # noqa: F401  (registers the shipped operations)
from engine.service_tasks.registry import operation_descriptions
from engine.services.context import Actor, Context
from engine.services.deployments import may_deploy
from engine.services.staff_scope import actor_sees
from engine.workflow.bpmn_xml import process_name_in

# The start variables the shipped processes receive (engine.services.approvals); bpmn/README.md documents the
# same list ("Process variables given at start"), and a test keeps the two agreeing.
PROCESS_VARIABLES: tuple[tuple[str, str], ...] = (
    ("customer_id", "the case's customer (int)"),
    ("job_id", "the job under approval (int; job approvals)"),
    ("registration_ids", "the registrations under approval (list of int; timesheet approvals)"),
    ("period_start", "first day of the timesheet period (ISO date; timesheet approvals)"),
    ("period_end", "last day of the timesheet period (ISO date; timesheet approvals)"),
    ("manager_id", "the case's manager (int or None)"),
    ("title", "what is approved, in words, e.g. 'Window cleaning, 3 May'"),
    ("hours_total", "the hours sent for approval (decimal, e.g. 7.5)"),
    ("expenses_total", "the expenses sent for approval, in the currency (decimal, e.g. 742.5)"),
    ("mileage_total", "the kilometres sent for approval (decimal)"),
    ("approval_period", "how long the customer has to decide (ISO 8601 duration, e.g. 'P7D')"),
    ("reminder_interval", "how often the customer is reminded (ISO 8601 duration, e.g. 'P2D')"),
    ("period_end_action", "what happens when the period ends: 'auto_approve' or 'escalate'"),
    ("minimum_resume_period", "the least time left after a query is answered (ISO 8601 duration)"),
    ("customer_emails", "the customer's approvers' addresses (list of str, optional)"),
    ("customer_email", "the customer contact's address when customer_emails is absent (str, optional)"),
    ("manager_email", "the manager's address (str, optional)"),
    ("customer_mails", "the approval mails the customer's contacts get (list of template names, optional)"),
)


@dataclass(frozen=True)
class VersionSummary:
    process_id: str
    version: int
    name: str
    filename: str
    bpmn_hash: str
    deployed_at: datetime
    deployed_by: str | None
    running: int
    completed: int
    in_error: int


@dataclass(frozen=True)
class ProcessSummary:
    process_id: str
    name: str
    latest: int
    versions: list[VersionSummary]  # newest first


def _require_reader(actor: Actor) -> None:
    if not may_deploy(actor):
        raise NotAllowed("only managers and admins see the processes")


def _counts(session, actor: Actor, version_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(running, completed, in error) per version id, for the instances in the actor's scope: one query."""
    if not version_ids:
        return {}
    def count(status: str):
        return func.sum(case((WorkflowInstance.status == status, 1), else_=0))

    query = (select(WorkflowInstance.process_version_id, count(InstanceStatus.RUNNING),
                    count(InstanceStatus.COMPLETED), count(InstanceStatus.ERROR))
             .where(WorkflowInstance.process_version_id.in_(version_ids),
                    actor_sees(actor, WorkflowInstance.customer_id))
             .group_by(WorkflowInstance.process_version_id))
    return {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in session.execute(query)}


_COLUMNS = (ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.version, ProcessVersion.filename,
            ProcessVersion.bpmn_hash, ProcessVersion.deployed_at, ProcessVersion.deployed_by)
# a version's process name, by its hash: versions never change, so the XML is read once per process (and version)
_NAMES: dict[str, str] = {}


def _names(session, rows) -> dict[str, str]:
    missing = [row.id for row in rows if row.bpmn_hash not in _NAMES]
    if missing:
        found = session.execute(select(ProcessVersion.bpmn_hash, ProcessVersion.process_id, ProcessVersion.xml)
                                .where(ProcessVersion.id.in_(missing)))
        for key, process_id, xml in found:
            _NAMES[key] = process_name_in(xml.encode(), process_id) or process_id
    return {row.bpmn_hash: _NAMES[row.bpmn_hash] for row in rows}


def _summaries(session, actor: Actor, rows) -> list[VersionSummary]:
    counts, names = _counts(session, actor, [row.id for row in rows]), _names(session, rows)
    return [VersionSummary(row.process_id, row.version, names[row.bpmn_hash], row.filename, row.bpmn_hash,
                           row.deployed_at, row.deployed_by, *counts.get(row.id, (0, 0, 0)))
            for row in rows]


def list_processes(ctx: Context, actor: Actor) -> list[ProcessSummary]:
    """Every deployed process with its versions (newest first), by process id.

    :raises NotAllowed: the actor is not a manager or an admin.
    """
    _require_reader(actor)
    with ctx.read() as work:
        rows = work.session.execute(select(*_COLUMNS).order_by(ProcessVersion.process_id,
                                                               ProcessVersion.version.desc())).all()
        summaries = _summaries(work.session, actor, rows)
    processes: dict[str, list[VersionSummary]] = {}
    for summary in summaries:
        processes.setdefault(summary.process_id, []).append(summary)
    return [ProcessSummary(pid, versions[0].name, versions[0].version, versions) for pid, versions in processes.items()]


def get_version(ctx: Context, actor: Actor, process_id: str, version: int | None = None) -> tuple[VersionSummary, str]:
    """One version (the latest if `version` is None) and its BPMN XML.

    :raises NotAllowed: the actor is not a manager or an admin.
    :raises NotFound: no such process or version.
    """
    _require_reader(actor)
    query = select(*_COLUMNS).where(ProcessVersion.process_id == process_id)
    query = query.where(ProcessVersion.version == version) if version is not None else \
        query.order_by(ProcessVersion.version.desc()).limit(1)
    with ctx.read() as work:
        row = work.session.execute(query).first()
        if row is None:
            which = f" version {version}" if version is not None else ""
            raise NotFound(f"no process {process_id!r}{which}")
        xml = work.session.scalar(select(ProcessVersion.xml).where(ProcessVersion.id == row.id))
        return _summaries(work.session, actor, [row])[0], xml


def service_topics() -> list[tuple[str, str]]:
    """(operation name, one-line description) of every registered service-task operation, by name."""
    return operation_descriptions()


def process_variables() -> list[tuple[str, str]]:
    """(variable name, one-line description) of the start variables the processes receive (bpmn/README.md)."""
    return list(PROCESS_VARIABLES)
