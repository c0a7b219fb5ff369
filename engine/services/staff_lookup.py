"""Find a staff member by e-mail address, for the command line's --as and --to."""

from sqlalchemy import func, select

from engine.errors import InvalidInput, NotFound
from engine.models import StaffUser
from engine.services.context import Context
from engine.services.staff_auth import StaffView


def get_staff_by_email(ctx: Context, email: str) -> StaffView:
    """The active staff member with this e-mail address (any case).

    :raises NotFound: no such staff member. :raises InvalidInput: the account is deactivated.
    """
    address = (email or "").strip().lower()
    with ctx.read() as uow:
        user = uow.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == address))
        if user is None:
            raise NotFound(f"no staff member {address or '(empty)'}")
        if not user.active:
            raise InvalidInput(f"{user.email} is deactivated")
        return StaffView(user.id, user.email, user.name, user.role, user.may_send_for_approval)
