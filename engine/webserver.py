"""How production serves the web app: gunicorn running `webapp.wsgi:app` (used by `signoff serve` and the bench).

Every worker must sign cookies with the same key, or a form rendered by one worker fails CSRF in another:
without SIGNOFF_SECRET_KEY one random key is made for this start and handed to all workers (everyone is
logged out when the server restarts; set SIGNOFF_SECRET_KEY to keep sessions across restarts).
"""

import os
import secrets
import sys

WSGI_APP = "webapp.wsgi:app"


def gunicorn_command(bind: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", bind,
            "--access-logfile", "-", WSGI_APP]


def gunicorn_env(database_url: str | None = None) -> dict[str, str]:
    """This process's environment with a shared secret key (kept if set) and, if given, the database."""
    env = dict(os.environ)
    env.setdefault("SIGNOFF_SECRET_KEY", secrets.token_hex(32))
    if database_url:
        env["SIGNOFF_DATABASE_URL"] = database_url
    return env
