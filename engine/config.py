"""Settings read from the environment (no app object)."""

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _default_database_url() -> str:
    var = Path(os.environ.get("SIGNOFF_VAR_DIR", PROJECT_ROOT / "var"))
    return f"sqlite:///{var / 'signoff.db'}"


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

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=os.environ.get("SIGNOFF_DATABASE_URL") or _default_database_url(),
            script_time_limit=float(os.environ.get("SIGNOFF_SCRIPT_TIME_LIMIT", "1.0")),
            smtp_url=os.environ.get("SIGNOFF_SMTP_URL") or None,
            mail_from=os.environ.get("SIGNOFF_MAIL_FROM", cls.mail_from),
            company_name=os.environ.get("SIGNOFF_COMPANY_NAME", cls.company_name),
            portal_url=os.environ.get("SIGNOFF_PORTAL_URL", cls.portal_url),
            broker_url=os.environ.get("SIGNOFF_BROKER_URL") or None,
            sweep_seconds=float(os.environ.get("SIGNOFF_SWEEP_SECONDS", "5")),
        )
