"""Moving running cases of one process version to another: a preview in business terms, then the move.

Admins only (and the system: the CLI). A manager owns processes but not the running cases of other managers'
customers, and a move changes what every open task of those cases asks; so the preview and the move are both
refused to managers (NotAllowed), and they ask an admin.

Each case moves in its own transaction under its row lock (engine.workflow.remap explains how a case is
re-pointed at the new version and why SpiffWorkflow's own `migrate_workflow` is not used); its open tasks take the
new version's name, lane and form, and an `instance_migrated` event records who moved it, from which version
to which, and why. A case that cannot move (it waits at, or has passed, an element the new version lacks) or
that changed meanwhile stays exactly as it was, and the result says why.
"""

from dataclasses import replace
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import HumanTask, HumanTaskStatus, InstanceStatus, ProcessVersion, StaffRole, WorkflowInstance
from engine.services.case_list import case_filter, parse_filter
from engine.services.context import Actor, Context
from engine.services.element_names import element_names
from engine.services.instances import lock_for_advance
from engine.services.staff_scope import actor_sees
from engine.workflow import runtime
from engine.workflow.remap import obstacles, remap

MAX_CASES = 2000  # cases one preview or move looks at; a larger move is done in several calls
SHOWN_CASES = 10  # case ids listed per place (a page links them); the counts cover every case
MOVABLE = (InstanceStatus.RUNNING, InstanceStatus.ERROR)
REASON_CHARS = 500


def _ensure_admin(actor: Actor) -> None:
    if not (actor.is_system or actor.staff_role == StaffRole.ADMIN):
        raise NotAllowed("only admins may migrate running cases to another version")


def _version(session: Session, process_id: str, version: int) -> ProcessVersion:
    row = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                      ProcessVersion.version == version))
    if row is None:
        raise NotFound(f"no version {version} of process {process_id!r}")
    return row


def _versions(session: Session, process_id: str, from_version: int, to_version: int):
    if from_version == to_version:
        raise InvalidInput(f"--to: the cases are already on version {from_version}")
    return _version(session, process_id, from_version), _version(session, process_id, to_version)


def _case_ids(ctx: Context, session: Session, actor: Actor, source: ProcessVersion,
              filters: dict[str, str] | None) -> tuple[list[int], bool]:
    """The first MAX_CASES running (or failed) cases of the source version that the filters select, oldest
    first, and whether there are more."""
    raw = dict(filters or {})
    for fixed in ("process", "version"):
        if raw.pop(fixed, None):
            raise InvalidInput(f"{fixed}: given by the migration itself, not as a filter")
    chosen = replace(parse_filter(raw, ctx.settings.zone), process=source.process_id)
    query = (select(WorkflowInstance.id)
             .where(and_(*case_filter(actor, chosen, ctx.clock())), WorkflowInstance.process_version_id == source.id,
                    WorkflowInstance.status.in_(MOVABLE))
             .order_by(WorkflowInstance.id).limit(MAX_CASES + 1))
    ids = list(session.scalars(query))
    return ids[:MAX_CASES], len(ids) > MAX_CASES


def _position(loaded: runtime.LoadedInstance, names: dict[str, str]) -> str:
    """Where the case stands, in the diagram's words: the tasks it waits at, else its timers, else its error."""
    ready = [t.task_spec.bpmn_id for t in runtime.ready_user_tasks(loaded.workflow)]
    waiting = ready or [t.task_spec.bpmn_id for t, _ in runtime.waiting_timers(loaded.workflow)]
    if not waiting and loaded.row.error_element:
        waiting = [loaded.row.error_element]
    return " and ".join(names.get(e, e) for e in dict.fromkeys(waiting)) or "its start"


def _why_not(found, names: dict[str, str], version: int) -> str:
    first = found[0]
    name = names.get(first.element_id, first.element_id)
    return f"{name} no longer exists in version {version}"


def _assess(session: Session, ctx: Context, row: WorkflowInstance, key: str | None, target, names,
            version: int) -> tuple[runtime.LoadedInstance, str, str | None]:
    """The loaded case, where it stands and why it cannot move (None: it can)."""
    loaded = runtime.load(session, row, ctx.clock, ctx.settings, key)
    found = obstacles(loaded.workflow, target.spec, target.subprocess_specs)
    return loaded, _position(loaded, names), _why_not(found, names, version) if found else None


def _cases(count: int) -> str:
    return f"{count} case{'' if count == 1 else 's'}"


def list_migration_versions(ctx: Context, actor: Actor) -> dict[str, list[dict]]:
    """For the migration form: every process's versions, oldest first, each with how many of its cases could move
    (running or failed, in the actor's scope): {"job_approval": [{"version": 1, "movable": 14}, ...]}.

    :raises NotAllowed: not an admin.
    """
    _ensure_admin(actor)
    movable = (select(WorkflowInstance.process_version_id, func.count().label("n"))
               .where(WorkflowInstance.status.in_(MOVABLE), actor_sees(actor, WorkflowInstance.customer_id))
               .group_by(WorkflowInstance.process_version_id).subquery())
    query = (select(ProcessVersion.process_id, ProcessVersion.version, func.coalesce(movable.c.n, 0))
             .outerjoin(movable, movable.c.process_version_id == ProcessVersion.id)
             .order_by(ProcessVersion.process_id, ProcessVersion.version))
    versions: dict[str, list[dict]] = {}
    with ctx.read() as uow:
        for process_id, version, count in uow.session.execute(query):
            versions.setdefault(process_id, []).append({"version": version, "movable": count})
    return versions


def preview_migration(ctx: Context, actor: Actor, process_id: str, from_version: int, to_version: int,
                      filters: dict[str, str] | None = None) -> dict:
    """What moving the selected cases would do, grouped by where they wait, with sentences in business terms
    ("14 cases waiting at Review the job will move", "3 cannot, because Answer ... no longer exists in version 4").

    :raises NotAllowed: not an admin. :raises NotFound: either version does not exist.
    :raises InvalidInput: the same version twice, or a bad filter (naming it).
    """
    _ensure_admin(actor)
    with ctx.read() as uow:
        session = uow.session
        source, target_row = _versions(session, process_id, from_version, to_version)
        target = runtime.process_for(session, target_row.id)
        names = element_names(session, source.id)
        moves: dict[str, list[int]] = {}
        refusals: dict[tuple[str, str], list[int]] = {}
        ids, more = _case_ids(ctx, session, actor, source, filters)
        for instance_id in ids:
            row = session.get(WorkflowInstance, instance_id)
            _, position, why = _assess(session, ctx, row, source.bpmn_hash, target, names, to_version)
            if why is None:
                moves.setdefault(position, []).append(instance_id)
            else:
                refusals.setdefault((position, why), []).append(instance_id)
    return {"process_id": process_id, "from_version": from_version, "to_version": to_version,
            **_summary(moves, refusals, "will move", "cannot move", more)}


def _most_first(groups: dict) -> list[tuple]:
    """(key, case ids) of the groups, the most cases first (ties in the order met)."""
    return sorted(groups.items(), key=lambda item: -len(item[1]))


def _summary(moves: dict[str, list[int]], refusals: dict[tuple[str, str], list[int]], moving: str,
             staying: str, more: bool) -> dict:
    """Counts per place, the first SHOWN_CASES case ids of each, and the sentences saying them, most cases first;
    `more`: the selection has more than MAX_CASES cases, so this was its oldest MAX_CASES only."""
    sentences = [f"{_cases(len(ids))} waiting at {where} {moving}" for where, ids in _most_first(moves)]
    sentences += [f"{_cases(len(ids))} waiting at {where} {staying}, because {why}"
                  for (where, why), ids in _most_first(refusals)]
    if more:
        sentences.append(f"Only the oldest {MAX_CASES:,} cases of the selection were looked at: once they have "
                         "moved, run it again for the rest")
    return {"will_move": sum(map(len, moves.values())), "cannot_move": sum(map(len, refusals.values())),
            "moves": [{"waiting_at": where, "cases": len(ids), "case_ids": ids[:SHOWN_CASES]}
                      for where, ids in _most_first(moves)],
            "refusals": [{"waiting_at": where, "reason": why, "cases": len(ids), "case_ids": ids[:SHOWN_CASES]}
                         for (where, why), ids in _most_first(refusals)],
            "more": more, "summary": sentences or ["no running case of this version matches"]}


def _refresh_open_tasks(session: Session, loaded: runtime.LoadedInstance, target) -> None:
    """The case's open tasks take the new version's name, lane, role and form (their ids stay)."""
    for human in session.scalars(select(HumanTask).where(HumanTask.instance_id == loaded.row.id,
                                                         HumanTask.status == HumanTaskStatus.OPEN)):
        task = loaded.workflow.get_task_from_id(UUID(human.spiff_task_id))
        spec = task.task_spec
        human.name = spec.bpmn_name or spec.bpmn_id
        human.lane = spec.lane
        human.role = target.lane_roles.get(spec.lane, "staff") if spec.lane else "staff"
        human.form = spec.extensions.get("form", [])


def _move_one(ctx: Context, actor: Actor, instance_id: int, source: ProcessVersion, target_row: ProcessVersion,
              names: dict[str, str], reason: str) -> tuple[str, str | None]:
    """Move one case in its own transaction; (where it waits, None) when moved, else (where, why it stayed)."""
    with ctx.uow() as uow:
        session = uow.session
        row, key = lock_for_advance(session, instance_id)
        if row is None or row.process_version_id != source.id or row.status not in MOVABLE:
            return "its end", "it changed meanwhile (finished, cancelled or moved)"
        target = runtime.process_for(session, target_row.id)
        loaded, position, why = _assess(session, ctx, row, key, target, names, target_row.version)
        if why is not None:
            return position, why
        remap(loaded.workflow, target.spec, target.subprocess_specs)
        loaded.process = target
        loaded.add_event("instance_migrated", ctx.clock(), actor=actor.name,
                         data={"from_version": source.version, "to_version": target_row.version, "reason": reason})
        _refresh_open_tasks(session, loaded, target)
        row.process_version_id = target_row.id
        try:
            runtime.save(session, loaded, actor.name)
            uow.commit()
        except StaleDataError:
            return position, "it changed at the same time; try again"
    return position, None


def migrate_cases(ctx: Context, actor: Actor, process_id: str, from_version: int, to_version: int,
                  filters: dict[str, str] | None = None, reason: str = "") -> dict:
    """Move the selected running cases of `from_version` to `to_version`, each in its own transaction.

    Returns the ids moved, per case that stayed why, and the sentences saying so ("2 cases waiting at Review
    the job moved", as preview_migration's).
    :raises NotAllowed: not an admin. :raises NotFound: either version does not exist.
    :raises InvalidInput: the same version twice, no reason given, or a bad filter (naming it).
    """
    _ensure_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: say why the cases move (it is recorded in each case's history)")
    if len(reason) > REASON_CHARS:
        raise InvalidInput(f"reason: longer than {REASON_CHARS} characters")
    with ctx.read() as uow:
        session = uow.session
        source, target_row = _versions(session, process_id, from_version, to_version)
        names = element_names(session, source.id)
        ids, more = _case_ids(ctx, session, actor, source, filters)
    moved, refused = [], {}
    moves: dict[str, list[int]] = {}
    refusals: dict[tuple[str, str], list[int]] = {}
    for instance_id in ids:
        position, why = _move_one(ctx, actor, instance_id, source, target_row, names, reason)
        if why is None:
            moved.append(instance_id)
            moves.setdefault(position, []).append(instance_id)
        else:
            refused[instance_id] = why
            refusals.setdefault((position, why), []).append(instance_id)
    return {"process_id": process_id, "from_version": from_version, "to_version": to_version,
            "moved": moved, "refused": refused, **_summary(moves, refusals, "moved", "stayed", more)}
