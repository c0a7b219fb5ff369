"""Where a job stands in customer approval, derived in one place for every page (staff and portal).

A job's own `approval_status` only follows its job approval (case_type "job"); its hours may be under review
in a timesheet instead, so the status shown is the live approval touching the job (its own first, else a
timesheet holding its registrations), else the job's last outcome, else "not sent for approval".
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import InstanceStatus, Job, Registration, WorkflowInstance

# the statuses' words, in the order a case usually moves (the board's filter and colour classes use the keys)
STATUS_LABELS = {
    "awaiting_customer": "Awaiting customer", "reminded": "Reminded", "queried": "Queried",
    "escalated": "Escalated to manager", "approved": "Approved", "rejected": "Rejected",
    "expired_auto_approved": "Expired, auto-approved", "cancelled": "Cancelled", "error": "Error",
    "starting": "Starting",
}
NOT_SENT = "not_sent"
LIVE = (InstanceStatus.RUNNING, InstanceStatus.ERROR)


def display_status(status: str, case_status: str | None) -> str:
    """An approval instance's status as the screens name it."""
    if status in (InstanceStatus.CANCELLED, InstanceStatus.ERROR):
        return str(status)
    return case_status or "starting"


def job_statuses(session: Session, job_ids: list[int]) -> dict[int, dict]:
    """Per job id: {"status", "label", "instance_id", "via"} where via is "job", "timesheet" or None."""
    if not job_ids:
        return {}
    jobs = session.execute(select(Job.id, Job.approval_status, Job.approval_instance_id)
                           .where(Job.id.in_(job_ids))).all()
    live = {}
    for job_id, iid, case_type, status, case_status in session.execute(
            select(Registration.job_id, WorkflowInstance.id, WorkflowInstance.case_type, WorkflowInstance.status,
                   WorkflowInstance.case_status).distinct()
            .join(WorkflowInstance, WorkflowInstance.id == Registration.approval_instance_id)
            .where(Registration.job_id.in_(job_ids), WorkflowInstance.status.in_(LIVE))
            .order_by(Registration.job_id, WorkflowInstance.id)):
        live.setdefault(job_id, (iid, case_type, display_status(status, case_status)))
    own_ids = [j.approval_instance_id for j in jobs if j.approval_instance_id is not None]
    own = {iid: display_status(status, case_status) for iid, status, case_status in session.execute(
        select(WorkflowInstance.id, WorkflowInstance.status, WorkflowInstance.case_status)
        .where(WorkflowInstance.id.in_(own_ids), WorkflowInstance.status.in_(LIVE)))}
    return {job_id: _status(job_id, last, own_id, own, live) for job_id, last, own_id in jobs}


def _status(job_id: int, last: str | None, own_id: int | None, own: dict, live: dict) -> dict:
    if own_id in own:
        return _view(own[own_id], own_id, "job")
    if job_id in live:
        iid, case_type, status = live[job_id]
        return _view(status, iid, "job" if case_type == "job" else "timesheet")
    if last and last not in ("draft", "submitted"):
        return _view(last, None, None)
    return {"status": NOT_SENT, "label": "Not sent for approval", "instance_id": None, "via": None}


def _view(status: str, instance_id: int | None, via: str | None) -> dict:
    label = STATUS_LABELS.get(status, status.replace("_", " ").capitalize())
    if via == "timesheet":
        label += " (hours in a timesheet)"
    return {"status": status, "label": label, "instance_id": instance_id, "via": via}
