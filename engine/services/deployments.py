"""Deploying BPMN files as immutable process versions, one per executable process of the file.

`check_bpmn` says every problem of a file without storing anything; `deploy_file` stores all the file's
executable processes in one transaction, or none.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.errors import DeployError, NotAllowed
from engine.models import ProcessVersion
from engine.models.staff_user import StaffRole
from engine.services.context import Actor, Context
from engine.workflow.problems import Problem
from engine.workflow.specs import ParsedProcess, analyse

DEPLOYER_ROLES = frozenset({StaffRole.ADMIN, StaffRole.MANAGER})


@dataclass(frozen=True)
class Deployed:
    process_id: str
    version: int
    created: bool


def check_bpmn(ctx: Context, data: bytes, filename: str, lane_roles: dict[str, str] | None = None) -> list[Problem]:
    """Every problem of the file ([] = deployable); never raises for a bad file; stores nothing."""
    return _parsed(ctx, data, filename, lane_roles)[1]


def _parsed(ctx: Context, data: bytes, filename: str,
            lane_roles: dict[str, str] | None) -> tuple[list[ParsedProcess], list[Problem]]:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return [], [Problem(filename, None, None, f"the file is not UTF-8 text ({err.reason} at byte {err.start}): "
                                                  "save it as UTF-8")]
    return analyse(data, filename, lane_roles, ctx.settings.min_timer_seconds)


def may_deploy(actor: Actor) -> bool:
    """Managers and admins deploy processes, and the system (CLI, demo); employees and contacts do not."""
    return actor.is_system or actor.staff_role in DEPLOYER_ROLES


def deploy_file(ctx: Context, actor: Actor, data: bytes, filename: str,
                lane_roles: dict[str, str] | None = None) -> list[Deployed]:
    """Deploy every executable process of the file in one transaction; same bytes → same version (created=False).

    :raises NotAllowed: the actor is not a manager or an admin (system actors may).
    :raises DeployError: with `.problems`, every reason the file is refused; nothing is stored.
    """
    if not may_deploy(actor):
        raise NotAllowed("only managers and admins deploy processes")
    parsed, problems = _parsed(ctx, data, filename, lane_roles)
    if problems:
        raise DeployError(str(problems[0]), problems)
    xml = data.decode("utf-8")
    with ctx.uow() as uow:
        deployed = [_store(uow.session, ctx, actor, process, filename, xml) for process in parsed]
        uow.commit()
        return deployed


def _store(session, ctx: Context, actor: Actor, process: ParsedProcess, filename: str, xml: str) -> Deployed:
    existing = session.scalar(select(ProcessVersion).where(ProcessVersion.bpmn_hash == process.bpmn_hash))
    if existing is not None:
        return Deployed(existing.process_id, existing.version, created=False)
    latest = session.scalar(select(func.max(ProcessVersion.version))
                            .where(ProcessVersion.process_id == process.process_id))
    row = ProcessVersion(process_id=process.process_id, version=(latest or 0) + 1, bpmn_hash=process.bpmn_hash,
                         filename=filename, xml=xml, lane_roles=process.lane_roles, deployed_at=ctx.clock(),
                         deployed_by=actor.name[:200])
    session.add(row)
    session.flush()
    return Deployed(row.process_id, row.version, created=True)
