"""The migrations blueprint (/migrations, admins): move running cases of one process version to another — a
preview in business terms first, then the move with a reason (pages.py over engine.services.case_migration)."""

from flask import Blueprint

bp = Blueprint("migrations", __name__, url_prefix="/migrations")

from webapp.migrations import pages  # noqa: E402, F401, I001 - register the routes on bp
