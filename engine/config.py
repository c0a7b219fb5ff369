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

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=os.environ.get("SIGNOFF_DATABASE_URL") or _default_database_url(),
            script_time_limit=float(os.environ.get("SIGNOFF_SCRIPT_TIME_LIMIT", "1.0")),
        )
