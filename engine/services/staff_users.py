"""Staff account management (admins only): list, create, change, deactivate/reactivate, set a password.

Creating, hashing and ending sessions reuse engine.services.staff_auth, so there is one place that knows
how passwords are hashed and how a deactivated account loses its sessions.
"""

from sqlalchemy import func, select

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import StaffRole, StaffUser
from engine.services import staff_auth
from engine.services.context import Context
from engine.services.customers import NAME_MAX
from engine.services.staff_scope import StaffMember, ensure_admin


def _view(user: StaffUser) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "active": user.active,
            "may_send_for_approval": user.may_send_for_approval,
            "created_at": user.created_at.isoformat() if user.created_at else None}


def _get(session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"no staff user {user_id}")
    return user


def list_staff_users(ctx: Context, *, staff: StaffMember, include_inactive: bool = True) -> list[dict]:
    """Staff accounts by name (active first).

    :raises NotAllowed: not an admin.
    """
    ensure_admin(staff)
    query = select(StaffUser).order_by(StaffUser.active.desc(), func.lower(StaffUser.name), StaffUser.id)
    if not include_inactive:
        query = query.where(StaffUser.active.is_(True))
    with ctx.uow() as uow:
        return [_view(user) for user in uow.session.scalars(query)]


def get_staff_user(ctx: Context, user_id: int, *, staff: StaffMember) -> dict:
    """One staff account.

    :raises NotAllowed: not an admin. :raises NotFound: unknown id.
    """
    ensure_admin(staff)
    with ctx.uow() as uow:
        return _view(_get(uow.session, user_id))


def create_user(ctx: Context, *, staff: StaffMember, email: str, name: str, role: str, password: str,
                may_send_for_approval: bool = False) -> dict:
    """Create an active account (validation and hashing by staff_auth.create_staff_user).

    :raises NotAllowed: not an admin.
    :raises InvalidInput: e-mail, role, name, a password the rules refuse, e-mail taken.
    """
    ensure_admin(staff)
    if len((name or "").strip()) > NAME_MAX:
        raise InvalidInput(f"name: at most {NAME_MAX} characters")
    created = staff_auth.create_staff_user(ctx, email, name, role, password, bool(may_send_for_approval))
    return get_staff_user(ctx, created.id, staff=staff)


def update_user(ctx: Context, user_id: int, *, staff: StaffMember, name: str, role: str,
                may_send_for_approval: bool = False) -> dict:
    """Change name, role and the "may send for approval" permission; an admin cannot demote itself.

    :raises NotAllowed: not an admin. :raises NotFound: unknown id. :raises InvalidInput: name, role.
    """
    ensure_admin(staff)
    name = (name or "").strip()
    problems: list[str] = []
    if not name:
        problems.append("name: required")
    elif len(name) > NAME_MAX:
        problems.append(f"name: at most {NAME_MAX} characters")
    if role not in set(StaffRole):
        problems.append(f"role: must be one of {', '.join(StaffRole)}")
    elif user_id == staff.id and role != StaffRole.ADMIN:
        problems.append("role: you cannot take away your own admin role")
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        user = _get(uow.session, user_id)
        user.name, user.role, user.may_send_for_approval = name, role, bool(may_send_for_approval)
        uow.commit()
        return _view(user)


def deactivate_user(ctx: Context, user_id: int, *, staff: StaffMember) -> dict:
    """Deactivate an account and end all its sessions at once (staff_auth.deactivate_user).

    :raises NotAllowed: not an admin, or deactivating oneself. :raises NotFound: unknown id.
    """
    ensure_admin(staff)
    if user_id == staff.id:
        raise NotAllowed("you cannot deactivate your own account")
    staff_auth.deactivate_user(ctx, user_id)
    return get_staff_user(ctx, user_id, staff=staff)


def reactivate_user(ctx: Context, user_id: int, *, staff: StaffMember) -> dict:
    """Let a deactivated account log in again (its old sessions stay ended).

    :raises NotAllowed: not an admin. :raises NotFound: unknown id.
    """
    ensure_admin(staff)
    with ctx.uow() as uow:
        user = _get(uow.session, user_id)
        user.active = True
        uow.commit()
        return _view(user)


def set_password(ctx: Context, user_id: int, password: str, *, staff: StaffMember) -> None:
    """Give an account a new password (the password rules of staff_auth.hash_password); its sessions end.

    Every open session of the account ends, so whoever knew the old password is logged out (an admin
    changing its own password logs in again).

    :raises NotAllowed: not an admin. :raises NotFound: unknown id. :raises InvalidInput: the rules refuse it.
    """
    ensure_admin(staff)
    with ctx.uow() as uow:
        user = _get(uow.session, user_id)
        user.password_hash = staff_auth.hash_password(ctx.settings, password, email=user.email, name=user.name)
        staff_auth.end_user_sessions(uow.session, user_id, ctx.clock())
        uow.commit()
