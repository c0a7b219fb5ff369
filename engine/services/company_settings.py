"""The company's settings (admins) and each customer's approval policy: the data handed to a process at start.

Changing the period, the reminder interval or what happens at the period's end needs no new BPMN version:
the processes read them from their start variables.
"""

from datetime import timedelta

from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.isotime import format_seconds, parse_duration
from engine.models import PERIOD_END_ACTIONS, CompanySettings, Customer
from engine.services.context import Context
from engine.services.staff_scope import StaffMember, ensure_admin, ensure_office_role, get_visible_customer

SETTINGS_ID = 1
DURATION_FIELDS = ("approval_period", "reminder_interval", "minimum_resume_period")
PORTAL_FLAGS = ("portal_shows_hours", "portal_shows_expenses", "portal_shows_mileage", "portal_shows_visits",
                "portal_shows_invoices", "portal_shows_quotes")
POLICY_FIELDS = ("approval_period", "reminder_interval", "period_end_action")
MAIL_FLAGS = ("email_one_click_decisions",)  # off by default (a one-click link is a bearer credential)
WORK_FLAGS = ("visits_become_hours",)  # off by default: a checked-out visit becomes hours (engine.services.visit_hours)


def load_settings(session: Session) -> CompanySettings:
    """The settings row, or the defaults (not added to the session) when nobody has saved any yet."""
    row = session.get(CompanySettings, SETTINGS_ID)
    if row is None:
        row = CompanySettings(id=SETTINGS_ID, customer_approval_enabled=True, approval_period="P7D",
                              reminder_interval="P2D", period_end_action="auto_approve", minimum_resume_period="P1D",
                              email_one_click_decisions=False, visits_become_hours=False,
                              **{flag: True for flag in PORTAL_FLAGS})
    return row


def settings_view(row: CompanySettings) -> dict:
    return {"customer_approval_enabled": row.customer_approval_enabled,
            **{name: getattr(row, name) for name in (*DURATION_FIELDS, "period_end_action", *PORTAL_FLAGS,
                                                   *MAIL_FLAGS, *WORK_FLAGS)}}


def effective_policy(settings: CompanySettings, customer: Customer) -> dict:
    """The approval variables for a new process of `customer`: its overrides, else the company's defaults."""
    policy = {name: getattr(customer, name) or getattr(settings, name) for name in POLICY_FIELDS}
    policy["minimum_resume_period"] = settings.minimum_resume_period
    return policy


def _check_duration(problems: list[str], field: str, value: str, required: bool, floor: float) -> str | None:
    """The duration, normalised; or None with a "field: problem" in `problems`. `floor` (seconds) is the
    timer floor (settings.min_timer_seconds): a reminder every microsecond would run without end."""
    value = (value or "").strip().upper()
    if not value:
        if required:
            problems.append(f"{field}: required")
        return None
    try:
        seconds = parse_duration(value).total_seconds()
    except (ValueError, TypeError):
        problems.append(f"{field}: not an ISO 8601 duration, such as P7D or PT12H")
        return None
    if seconds < floor:
        minimum = format_seconds(timedelta(seconds=floor))
        problems.append(f"{field}: must be at least {floor:g} seconds ({minimum}), such as P7D or PT12H")
        return None
    return value


def _check_action(problems: list[str], value: str, required: bool) -> str | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    if value not in PERIOD_END_ACTIONS:
        problems.append(f"period_end_action: must be one of {', '.join(PERIOD_END_ACTIONS)}")
        return None
    return value


def get_company_settings(ctx: Context) -> dict:
    """The approval defaults and what contacts may see in the portal."""
    with ctx.uow() as uow:
        return settings_view(load_settings(uow.session))


def update_company_settings(ctx: Context, *, staff: StaffMember, customer_approval_enabled: bool,
                            approval_period: str, reminder_interval: str, minimum_resume_period: str,
                            period_end_action: str, email_one_click_decisions: bool = False,
                            visits_become_hours: bool = False, **portal_flags: bool) -> dict:
    """Save the company settings (admins only); `email_one_click_decisions`: request and reminder mails carry
    signed one-click Approve / Reject links (engine.services.email_decisions); `visits_become_hours`: a visit
    checked out becomes an hours registration by itself (engine.services.visit_hours).

    :raises NotAllowed: not an admin. :raises InvalidInput: a bad duration or end action, an unknown flag.
    """
    ensure_admin(staff)
    problems: list[str] = []
    floor = ctx.settings.min_timer_seconds
    durations = {name: _check_duration(problems, name, value, True, floor) for name, value in (
        ("approval_period", approval_period), ("reminder_interval", reminder_interval),
        ("minimum_resume_period", minimum_resume_period))}
    action = _check_action(problems, period_end_action, True)
    problems += [f"{name}: not a setting" for name in portal_flags if name not in PORTAL_FLAGS]
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        row = load_settings(uow.session)
        uow.session.add(row)
        row.customer_approval_enabled = bool(customer_approval_enabled)
        for name, value in durations.items():
            setattr(row, name, value)
        row.period_end_action = action
        row.email_one_click_decisions = bool(email_one_click_decisions)
        row.visits_become_hours = bool(visits_become_hours)
        for name in PORTAL_FLAGS:
            setattr(row, name, bool(portal_flags.get(name)))
        row.updated_at = ctx.clock()
        uow.commit()
        return settings_view(row)


def set_customer_policy(ctx: Context, customer_id: int, *, staff: StaffMember, approval_period: str = "",
                        reminder_interval: str = "", period_end_action: str = "") -> dict:
    """Override the approval policy for one customer; an empty value means "the company default".

    :raises NotAllowed: employees. :raises NotFound: a customer outside the staff member's scope.
    :raises InvalidInput: a bad duration or end action.
    """
    ensure_office_role(staff)
    problems: list[str] = []
    floor = ctx.settings.min_timer_seconds
    values = {"approval_period": _check_duration(problems, "approval_period", approval_period, False, floor),
              "reminder_interval": _check_duration(problems, "reminder_interval", reminder_interval, False, floor),
              "period_end_action": _check_action(problems, period_end_action, False)}
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        for name, value in values.items():
            setattr(customer, name, value)
        uow.commit()
        return get_customer_policy_view(load_settings(uow.session), customer)


def get_customer_policy(ctx: Context, customer_id: int, *, staff: StaffMember) -> dict:
    """The customer's own overrides and the policy that applies (for the policy form).

    :raises NotAllowed: employees. :raises NotFound: a customer outside the staff member's scope.
    """
    ensure_office_role(staff)
    with ctx.uow() as uow:
        customer = get_visible_customer(uow.session, staff, customer_id)
        return get_customer_policy_view(load_settings(uow.session), customer)


def get_customer_policy_view(settings: CompanySettings, customer: Customer) -> dict:
    return {"customer_id": customer.id, "customer_name": customer.name,
            "overrides": {name: getattr(customer, name) or "" for name in POLICY_FIELDS},
            "effective": effective_policy(settings, customer)}
