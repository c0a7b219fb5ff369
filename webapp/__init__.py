"""The Flask web app: `create_app()` builds it around an engine Context (flaskr's factory shape)."""

import functools
import os
import secrets
from datetime import date, datetime, tzinfo

from flask import Flask

from engine.config import Settings
from engine.isotime import duration_words
from engine.services.context import Context, open_context
from webapp import auth, errors, input_guard, security
from webapp.devmail import bp as devmail_bp
from webapp.extensions import CTX_KEY, csrf
from webapp.instances import bp as instances_bp
from webapp.migrations import bp as migrations_bp
from webapp.monitor import bp as monitor_bp
from webapp.portal import bp as portal_bp
from webapp.processes import bp as processes_bp
from webapp.staff import bp as staff_bp


def create_app(settings: Settings | None = None, ctx: Context | None = None, config: dict | None = None) -> Flask:
    """Build the app; `ctx` (tests) wins over `settings`; `config` overrides Flask settings (tests).

    Cookies are HttpOnly and SameSite=Lax always, Secure when the site is served over https
    (`SIGNOFF_COOKIE_SECURE=1/0` decides explicitly): the http://127.0.0.1 demo would lose them otherwise.
    """
    ctx = ctx or open_context(settings)
    app = Flask(__name__)
    secure = os.environ.get("SIGNOFF_COOKIE_SECURE")
    app.config.from_mapping(
        # A random key per process logs everyone out on restart and breaks CSRF across several
        # gunicorn workers: production sets SIGNOFF_SECRET_KEY.
        SECRET_KEY=os.environ.get("SIGNOFF_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(secure == "1") if secure else ctx.settings.portal_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-ended) login session
    )
    if config:
        app.config.update(config)
    app.extensions[CTX_KEY] = ctx
    security.init_app(app, ctx.settings.upload_max_bytes)  # first: refuses a too-large body before anyone reads it
    input_guard.init_app(app)  # then: its guard reads the raw body before CSRFProtect parses the form
    csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    app.register_blueprint(staff_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(processes_bp)
    app.register_blueprint(instances_bp)
    app.register_blueprint(monitor_bp)
    app.register_blueprint(migrations_bp)
    app.register_blueprint(devmail_bp)  # 404 unless config DEV_MAILBOX (make demo)
    zone = ctx.settings.zone
    # a pure function of the timestamp, paid per row (≈5 µs: zone conversion, strftime); lists show the same ones again
    app.add_template_filter(functools.lru_cache(maxsize=4096)(lambda value: _when(value, zone)), "when")
    app.add_template_filter(duration_words, "duration_words")
    app.add_template_filter(_day, "day")
    app.add_template_global(ctx.settings.timezone, "company_timezone")
    return app


def _day(value: str | None) -> str:
    """An ISO date from a view dict as "26 Oct 2026"."""
    if not value:
        return "—"
    day = date.fromisoformat(value[:10])
    return f"{day.day} {day:%b %Y}"


def _when(value: str | None, zone: tzinfo) -> str:
    """An ISO timestamp from a view dict as a short time in the company's zone, with the zone's abbreviation."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(zone).strftime("%d %b %Y %H:%M %Z")
