"""engine.errors → HTTP status codes and readable error pages (never a traceback).

The page is chosen by where the request went: the customer portal's in the portal's own style with a way
back to its approvals (a contact never lands on the staff inbox's page), everything else the staff page.
"""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from engine.errors import ConcurrentUpdate, InvalidInput, NotAllowed, NotFound, TaskAlreadyCompleted

# exception class -> (status, page title)
STATUS = {
    NotFound: (404, "Not found"),
    NotAllowed: (403, "Not allowed"),
    TaskAlreadyCompleted: (409, "Already decided"),
    ConcurrentUpdate: (409, "Changed at the same time"),
    InvalidInput: (400, "Invalid input"),
}


def in_portal() -> bool:
    """The request is the customer portal's (its blueprint, or an unknown address under /portal/)."""
    return request.blueprint == "portal" or request.path == "/portal" or request.path.startswith("/portal/")


def error_page(status: int, title: str, message: str):
    template = "portal/error.html" if in_portal() else "errors/error.html"
    return render_template(template, title=title, message=message, status=status), status


def init_app(app: Flask) -> None:
    for exc_class, (status, title) in STATUS.items():
        app.register_error_handler(exc_class, _handler(status, title))
    app.register_error_handler(CSRFError, lambda err: error_page(
        400, "Form expired", "The form was missing its security token or it expired. Reload the page and try again."))
    app.register_error_handler(HTTPException, lambda err: error_page(err.code, err.name, err.description))
    app.register_error_handler(OperationalError, lambda err: error_page(
        503, "Try again in a moment", "The database cannot be reached right now; nothing was changed. "
        "Please try again in a moment."))


def _handler(status: int, title: str):
    def handle(err: Exception):
        return error_page(status, title, str(err))

    return handle
