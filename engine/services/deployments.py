"""Deploying BPMN files as immutable process versions."""

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.errors import DeployError
from engine.models import ProcessVersion
from engine.services.context import Context
from engine.workflow.bpmn_xml import BpmnFileError
from engine.workflow.specs import parse_process


@dataclass(frozen=True)
class Deployed:
    process_id: str
    version: int
    created: bool


def deploy_process(ctx: Context, data: bytes, filename: str, lane_roles: dict[str, str] | None = None) -> Deployed:
    """Validate a BPMN file and store it as the newest version of its process (same bytes: same version).

    :raises DeployError: naming the file, the element and the fault; nothing is stored.
    """
    try:
        parsed = parse_process(data, filename, lane_roles, ctx.settings.min_timer_seconds)
        xml = data.decode("utf-8")
    except BpmnFileError as err:
        raise DeployError(str(err)) from err
    except UnicodeDecodeError as err:
        raise DeployError(f"{filename}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    with ctx.uow() as uow:
        existing = uow.session.scalar(select(ProcessVersion).where(ProcessVersion.bpmn_hash == parsed.bpmn_hash))
        if existing is not None:
            return Deployed(existing.process_id, existing.version, created=False)
        latest = uow.session.scalar(
            select(func.max(ProcessVersion.version)).where(ProcessVersion.process_id == parsed.process_id))
        row = ProcessVersion(process_id=parsed.process_id, version=(latest or 0) + 1, bpmn_hash=parsed.bpmn_hash,
                             filename=filename, xml=xml, lane_roles=parsed.lane_roles, deployed_at=ctx.clock())
        uow.session.add(row)
        uow.commit()
        return Deployed(row.process_id, row.version, created=True)
