"""Response headers and request limits for every page (OWASP ASVS 14.4, 12.1): set once, here.

Pages run only the app's own scripts and styles (no inline script, no inline event handlers), cannot be
framed, are not sniffed, send the origin only to this site, and are not stored by any cache (every page
but a static file is per-user or carries a CSRF token). A response that set its own policy keeps it
(webapp.downloads serves uploads with a stricter one). Request bodies are refused with 413 before they are
read once they are larger than the upload limit plus a margin for a form's other fields.
"""

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.errors import error_page

FORM_MARGIN_BYTES = 1024 * 1024  # the other fields of an upload form (descriptions, CSRF token ...)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# An e-mail's HTML is shown in a sandboxed srcdoc frame, which inherits the page's policy: mails are styled
# inline, so these two pages allow inline styles (still no script; the frame's sandbox runs none anyway).
MAIL_PREVIEW_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
MAIL_PREVIEW_ENDPOINTS = frozenset({"devmail.show", "staff.email_template_edit"})
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


def init_app(app: Flask, upload_max_bytes: int) -> None:
    """Call before any other extension's before_request (CSRF reads the form), so a big body is never read."""
    app.config["MAX_CONTENT_LENGTH"] = upload_max_bytes + FORM_MARGIN_BYTES
    app.before_request(_refuse_large_bodies)
    app.after_request(_set_headers)
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def _refuse_large_bodies() -> None:
    """Refuse on the declared Content-Length; a body without one is cut off by Werkzeug while it is read."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _too_large(_err):
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return error_page(413, "Too large", f"This request is larger than {limit_mb} MB, the most one form may "
                      "send (all its files together). Nothing was saved; send fewer or smaller files.")


def _set_headers(response):
    headers = response.headers
    preview = request.endpoint in MAIL_PREVIEW_ENDPOINTS
    headers.setdefault("Content-Security-Policy", MAIL_PREVIEW_CSP if preview else CSP)
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
