"""`python -m webapp.demo` (what `make demo` runs): seed the demo company, start the in-process background
worker and serve the web app on http://127.0.0.1:$SIGNOFF_PORT (default 5000) until Ctrl+C.

The embedded default: SQLite under var/ (SIGNOFF_VAR_DIR), mail to the dev mailbox (or SIGNOFF_SMTP_URL),
timers and mail delivery in a thread of this process.
"""

import dataclasses
import errno
import os
import signal
import socket
import sys

from werkzeug.serving import make_server

from engine.background import BackgroundWorker
from engine.config import Settings
from engine.demo_seed import DEMO_LOGINS, DemoLogins, seed_demo_company
from engine.mail.transport import make_transport
from engine.services.context import open_context
from webapp import create_app

HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEMO_TIMEZONE = "Europe/Amsterdam"


def parse_port(value: str | None) -> int:
    """SIGNOFF_PORT as a TCP port. :raises ValueError: a readable one-line message."""
    if value is None or not value.strip():
        return DEFAULT_PORT
    try:
        port = int(value.strip())
    except ValueError:
        raise ValueError(f"SIGNOFF_PORT must be a port number between 1 and 65535, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"SIGNOFF_PORT must be a port number between 1 and 65535, not {port}")
    return port


def port_problem(port: int) -> str | None:
    """Why HOST:port cannot be served (in use, not allowed), or None; checked before anything is seeded."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP server does
        try:
            probe.bind((HOST, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return f"port {port} on {HOST} is already in use; stop that program or set SIGNOFF_PORT to another port"
            return f"cannot listen on {HOST}:{port}: {err.strerror}"
    return None


def banner(base: str, logins: DemoLogins, fresh: bool, database_url: str) -> str:
    """What the terminal shows once the server is up: where to go and how to log in."""
    width = max(len(email) for email, _, _ in logins.staff)
    lines = [
        "", "Signoff demo is running.", "",
        f"  Staff login:   {base}/login",
        f"  Customer portal: {base}/portal/login  (the one-time code arrives in the dev mailbox)",
        f"  Dev mailbox:   {base}/dev/mailbox", "",
        ("Seeded a demo company into " if fresh else "Using the existing database ") + database_url
        + ("" if fresh else " (the logins below work if make demo created it)"), "",
        f"Staff logins (password for all: {logins.password}):",
        *(f"  {email:<{width}}  {role:<8}  {name}" for email, name, role in logins.staff), "",
        "Portal contacts (log in with the e-mail, read the code in the dev mailbox):",
        *(f"  {email}  ({customer})" for email, customer in logins.contacts), "",
        "Ctrl+C to stop.", "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Seed, start the worker, serve until interrupted; 1 on a bad port or a port in use."""
    try:
        port = parse_port(os.environ.get("SIGNOFF_PORT"))
    except ValueError as err:
        print(f"signoff demo: {err}", file=sys.stderr)
        return 1
    problem = port_problem(port)
    if problem:
        print(f"signoff demo: {problem}", file=sys.stderr)
        return 1
    base = f"http://{HOST}:{port}"
    try:
        settings = Settings.from_env()
    except ValueError as err:
        print(f"signoff demo: {err}", file=sys.stderr)
        return 1
    if "SIGNOFF_PORTAL_URL" not in os.environ:  # invitation links point at this server
        settings = dataclasses.replace(settings, portal_url=f"{base}/portal")
    if "SIGNOFF_TIMEZONE" not in os.environ:  # the demo company works in Haarlem
        settings = dataclasses.replace(settings, timezone=DEMO_TIMEZONE)
    ctx = open_context(settings)
    app = create_app(ctx=ctx, config={"DEV_MAILBOX": True})
    server = make_server(HOST, port, app, threaded=True)  # on a lost race Werkzeug itself says the port is in use
    seeded = seed_demo_company(ctx)
    worker = BackgroundWorker(ctx, make_transport(settings.smtp_url), interval=2.0)
    worker.start()
    # Ctrl+C and a plain `kill` both end serve_forever (even when started with SIGINT ignored, as `cmd &` is)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(banner(base, seeded or DEMO_LOGINS, seeded is not None, settings.database_url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        worker.stop()
        ctx.db.dispose()
    print("Signoff demo stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
