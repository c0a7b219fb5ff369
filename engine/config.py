"""Settings read from the environment (no app object)."""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_PROCESS_KEY = secrets.token_hex(32)


def _var_dir() -> Path:
    return Path(os.environ.get("SIGNOFF_VAR_DIR", PROJECT_ROOT / "var"))


def _default_database_url() -> str:
    return f"sqlite:///{_var_dir() / 'signoff.db'}"


def _default_upload_dir() -> str:
    return str(_var_dir() / "uploads")


@dataclass(frozen=True)
class Settings:
    """Everything configurable; `Settings.from_env()` reads SIGNOFF_* variables."""

    database_url: str = field(default_factory=_default_database_url)
    script_time_limit: float = 1.0
    smtp_url: str | None = None
    mail_from: str = "Signoff <signoff@localhost>"
    company_name: str = "Signoff Demo Services"
    portal_url: str = "http://127.0.0.1:5000/portal"
    broker_url: str | None = None
    sweep_seconds: float = 5.0
    upload_dir: str = field(default_factory=_default_upload_dir)
    upload_max_bytes: int = 10 * 1024 * 1024
    portal_code_minutes: int = 10  # OWASP ASVS 2.7.2: 10; at most 15 (checked in from_env)
    portal_session_days: int = 30
    # the key of one-click decision links in e-mails (SIGNOFF_SECRET_KEY; without it a key per process start,
    # so links mailed before a restart, or rendered by another process, are refused as not valid)
    link_secret: str = field(default_factory=lambda: _PROCESS_KEY, repr=False)
    timezone: str = "UTC"  # the company's IANA time zone: how times are shown and how entered times are read
    # portal login throttles (counted in portal_throttle_event rows, so they hold across web processes)
    portal_throttle_minutes: int = 15  # the window every limit below counts in
    portal_code_requests_per_email: int = 5
    portal_code_requests_per_ip: int = 20
    portal_code_attempts: int = 5  # wrong entries that lock one code (a new code must be requested)
    portal_wrong_codes_per_ip: int = 30
    # staff login throttles (counted in the database, like the portal's) and password rules
    staff_throttle_minutes: int = 15
    staff_login_failures_per_account: int = 5
    staff_login_failures_per_ip: int = 30
    password_min_length: int = 12
    # A model is untrusted input: bounds on what a BPMN file, a policy or a template can make the engine do.
    min_timer_seconds: int = 60  # the floor for every timer duration and cycle interval
    step_budget: int = 1000  # engine steps one transaction may run before the instance goes to `error`
    data_max_bytes: int = 256 * 1024  # an instance's variables, as JSON
    data_max_depth: int = 20  # nesting of lists and dicts in an instance's variables
    script_max_value_size: int = 100_000  # characters of a string or items of a collection a script may build
    template_max_iterations: int = 10_000  # loop iterations one e-mail template rendering may run
    template_max_output_bytes: int = 256 * 1024  # size of one rendered e-mail part

    @property
    def zone(self) -> ZoneInfo:
        """The company's time zone (SIGNOFF_TIMEZONE)."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=os.environ.get("SIGNOFF_DATABASE_URL") or _default_database_url(),
            script_time_limit=float(os.environ.get("SIGNOFF_SCRIPT_TIME_LIMIT", "1.0")),
            smtp_url=os.environ.get("SIGNOFF_SMTP_URL") or None,
            mail_from=os.environ.get("SIGNOFF_MAIL_FROM", cls.mail_from),
            company_name=os.environ.get("SIGNOFF_COMPANY_NAME", cls.company_name),
            portal_url=os.environ.get("SIGNOFF_PORTAL_URL", cls.portal_url),
            link_secret=os.environ.get("SIGNOFF_SECRET_KEY") or _PROCESS_KEY,
            broker_url=os.environ.get("SIGNOFF_BROKER_URL") or None,
            sweep_seconds=float(os.environ.get("SIGNOFF_SWEEP_SECONDS", "5")),
            upload_dir=os.environ.get("SIGNOFF_UPLOAD_DIR") or _default_upload_dir(),
            upload_max_bytes=int(os.environ.get("SIGNOFF_UPLOAD_MAX_MB", "10")) * 1024 * 1024,
            timezone=_zone_name(os.environ.get("SIGNOFF_TIMEZONE") or "UTC"),
            portal_code_minutes=_code_minutes(os.environ.get("SIGNOFF_PORTAL_CODE_MINUTES", "10")),
            portal_throttle_minutes=_positive("SIGNOFF_PORTAL_THROTTLE_MINUTES", cls.portal_throttle_minutes),
            portal_code_requests_per_email=_positive("SIGNOFF_PORTAL_CODE_REQUESTS_PER_EMAIL",
                                                     cls.portal_code_requests_per_email),
            portal_code_requests_per_ip=_positive("SIGNOFF_PORTAL_CODE_REQUESTS_PER_IP",
                                                  cls.portal_code_requests_per_ip),
            portal_code_attempts=_positive("SIGNOFF_PORTAL_CODE_ATTEMPTS", cls.portal_code_attempts),
            portal_wrong_codes_per_ip=_positive("SIGNOFF_PORTAL_WRONG_CODES_PER_IP", cls.portal_wrong_codes_per_ip),
            staff_throttle_minutes=_positive("SIGNOFF_STAFF_THROTTLE_MINUTES", cls.staff_throttle_minutes),
            staff_login_failures_per_account=_positive("SIGNOFF_STAFF_LOGIN_FAILURES_PER_ACCOUNT",
                                                       cls.staff_login_failures_per_account),
            staff_login_failures_per_ip=_positive("SIGNOFF_STAFF_LOGIN_FAILURES_PER_IP",
                                                  cls.staff_login_failures_per_ip),
            password_min_length=_positive("SIGNOFF_PASSWORD_MIN_LENGTH", cls.password_min_length),

            min_timer_seconds=_positive("SIGNOFF_MIN_TIMER_SECONDS", cls.min_timer_seconds),
            step_budget=_positive("SIGNOFF_STEP_BUDGET", cls.step_budget),
            data_max_bytes=_positive("SIGNOFF_DATA_MAX_KB", cls.data_max_bytes // 1024) * 1024,
            data_max_depth=_positive("SIGNOFF_DATA_MAX_DEPTH", cls.data_max_depth),
            script_max_value_size=_positive("SIGNOFF_SCRIPT_MAX_VALUE_SIZE", cls.script_max_value_size),
            template_max_iterations=_positive("SIGNOFF_TEMPLATE_MAX_ITERATIONS", cls.template_max_iterations),
            template_max_output_bytes=_positive("SIGNOFF_TEMPLATE_MAX_KB",
                                                cls.template_max_output_bytes // 1024) * 1024,
        )


def _zone_name(name: str) -> str:
    """:raises ValueError: not an IANA time zone name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"SIGNOFF_TIMEZONE: unknown time zone {name!r}; use an IANA name such as "
                         "Europe/Amsterdam") from None
    return name


def _code_minutes(value: str) -> int:
    """:raises ValueError: a lifetime outside 1..15 minutes (15 is the most TimeChimp allows; ASVS says 10)."""
    minutes = int(value)
    if not 1 <= minutes <= 15:
        raise ValueError(f"SIGNOFF_PORTAL_CODE_MINUTES must be between 1 and 15, not {minutes}")
    return minutes


def _positive(name: str, default: int) -> int:
    """:raises ValueError: a limit that is not a whole number of at least 1."""
    value = int(os.environ.get(name, str(default)))
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value
