"""Out-of-office delegation: a staff member names a stand-in for a period (each call one transaction).

During the period (both days included, the clock's UTC date) the tasks offered to the staff member are offered
to the stand-in too (engine.services.task_offer), and what the stand-in completes is recorded on behalf of them.
"""

from datetime import date

from sqlalchemy import select

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import Delegation, StaffUser
from engine.services.context import Actor, Context
from engine.services.work_fields import parse_date

MAX_DAYS = 366


def _view(row: Delegation, staff: StaffUser, stand_in: StaffUser) -> dict:
    return {"id": row.id, "staff_id": row.staff_id, "staff": staff.name, "stand_in_id": row.stand_in_id,
            "stand_in": stand_in.name, "starts_on": row.starts_on.isoformat(), "ends_on": row.ends_on.isoformat()}


def _period(starts_on: date | str, ends_on: date | str) -> tuple[date, date]:
    """:raises InvalidInput: a day that is not a date, an end before the start, or a period over a year."""
    problems: list[str] = []
    start, end = parse_date(problems, "starts_on", starts_on), parse_date(problems, "ends_on", ends_on)
    for name, day in (("starts_on", start), ("ends_on", end)):
        if day is None and not any(p.startswith(name) for p in problems):
            problems.append(f"{name}: a date is required (YYYY-MM-DD)")
    if problems:
        raise InvalidInput("; ".join(problems))
    if end < start:
        raise InvalidInput(f"ends_on: {end.isoformat()} is before starts_on {start.isoformat()}")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"ends_on: a stand-in period is at most {MAX_DAYS} days")
    return start, end


def _may_set_for(actor: Actor, staff_id: int) -> None:
    """:raises NotAllowed: someone other than the staff member itself, an admin or the system."""
    if not (actor.is_system or actor.staff_id == staff_id or actor.staff_role == "admin"):
        raise NotAllowed("only the staff member itself or an admin may name its stand-in")


def set_delegation(ctx: Context, actor: Actor, staff_id: int, stand_in_id: int, starts_on: date | str,
                   ends_on: date | str) -> dict:
    """Name `stand_in_id` as the stand-in of `staff_id` from `starts_on` to `ends_on` (both included).

    :raises NotAllowed: see _may_set_for. :raises NotFound: an unknown staff member.
    :raises InvalidInput: a bad period, the stand-in is the staff member itself or is not active, or already
        stands in for the staff member on a day of the period (a form sent twice makes one period).
    """
    _may_set_for(actor, staff_id)
    start, end = _period(starts_on, ends_on)
    if stand_in_id == staff_id:
        raise InvalidInput("stand_in: a staff member cannot stand in for itself")
    with ctx.uow() as uow:
        session = uow.session
        # the staff member's row locked: two such requests at once are checked one after the other
        staff = session.scalar(select(StaffUser).where(StaffUser.id == staff_id).with_for_update())
        stand_in = session.get(StaffUser, stand_in_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id}")
        if stand_in is None:
            raise NotFound(f"stand_in: no staff member {stand_in_id}")
        if not stand_in.active:
            raise InvalidInput(f"stand_in: {stand_in.name} is not active")
        overlap = session.scalar(select(Delegation).where(
            Delegation.staff_id == staff_id, Delegation.stand_in_id == stand_in_id,
            Delegation.starts_on <= end, Delegation.ends_on >= start).limit(1))
        if overlap is not None:
            raise InvalidInput(f"stand_in: {stand_in.name} already stands in for {staff.name} from "
                               f"{overlap.starts_on.isoformat()} to {overlap.ends_on.isoformat()}")
        row = Delegation(staff_id=staff_id, stand_in_id=stand_in_id, starts_on=start, ends_on=end,
                         created_at=ctx.clock())
        session.add(row)
        session.flush()
        view = _view(row, staff, stand_in)
        uow.commit()
        return view


def list_delegations(ctx: Context, actor: Actor, staff_id: int) -> list[dict]:
    """The stand-in periods a staff member has named, and those it stands in for, that have not ended.

    :raises NotAllowed: see _may_set_for.
    """
    _may_set_for(actor, staff_id)
    today = ctx.clock().date()
    with ctx.read() as uow:
        session = uow.session
        rows = session.scalars(select(Delegation).where(
            (Delegation.staff_id == staff_id) | (Delegation.stand_in_id == staff_id), Delegation.ends_on >= today)
            .order_by(Delegation.starts_on, Delegation.id)).all()
        people = {u.id: u for u in session.scalars(select(StaffUser).where(
            StaffUser.id.in_({r.staff_id for r in rows} | {r.stand_in_id for r in rows})))}
        return [_view(r, people[r.staff_id], people[r.stand_in_id]) for r in rows]


def list_stand_in_choices(ctx: Context, actor: Actor, staff_id: int) -> dict:
    """The staff member (id, name) and whom it may name as its stand-in: the other active staff, by name.

    :raises NotAllowed: see _may_set_for. :raises NotFound: an unknown staff member.
    """
    _may_set_for(actor, staff_id)
    with ctx.read() as uow:
        session = uow.session
        staff = session.get(StaffUser, staff_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id}")
        others = session.execute(select(StaffUser.id, StaffUser.name).where(
            StaffUser.active.is_(True), StaffUser.id != staff_id).order_by(StaffUser.name, StaffUser.id)).all()
        return {"id": staff.id, "name": staff.name, "choices": [(other.id, other.name) for other in others]}


def end_delegation(ctx: Context, actor: Actor, delegation_id: int) -> None:
    """End a stand-in period now (yesterday becomes its last day; one not begun yet is removed).

    :raises NotFound: unknown id. :raises NotAllowed: see _may_set_for.
    """
    today = ctx.clock().date()
    with ctx.uow() as uow:
        row = uow.session.get(Delegation, delegation_id)
        if row is None:
            raise NotFound(f"no stand-in period {delegation_id}")
        _may_set_for(actor, row.staff_id)
        if row.starts_on >= today:
            uow.session.delete(row)
        else:
            row.ends_on = min(row.ends_on, date.fromordinal(today.toordinal() - 1))
        uow.commit()
