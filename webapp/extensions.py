"""Flask extensions and the engine Context of the running app."""

from flask import current_app
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from engine.services.context import Context

CTX_KEY = "signoff_ctx"
csrf = CSRFProtect()
login_manager = LoginManager()


def get_ctx() -> Context:
    """The engine Context the app was built with (one per app; services open their own transactions)."""
    return current_app.extensions[CTX_KEY]
