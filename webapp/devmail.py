"""The development mailbox: every e-mail Signoff would send, readable in the browser (`make demo` only).

Registered always, but every route answers 404 unless the app was built with `DEV_MAILBOX=True`
(webapp.demo sets it; production never does). No login: a portal contact reads its one-time code here.
A mail's HTML body is shown only inside a sandboxed iframe (`srcdoc`, autoescaped), never in the page itself.
"""

from flask import Blueprint, abort, current_app, render_template

from engine.services.outbox import get_mail, list_mail
from webapp.extensions import get_ctx

bp = Blueprint("devmail", __name__, url_prefix="/dev/mailbox")


@bp.before_request
def _only_in_demo() -> None:
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)


@bp.get("", endpoint="index")
def index():
    """The newest mails first: to, subject, status, when."""
    return render_template("devmail/list.html", mails=list_mail(get_ctx(), limit=200))


@bp.get("/<int:mail_id>", endpoint="show")
def show(mail_id: int):
    """One mail: headers, the text body, and the HTML body in a sandboxed frame. NotFound -> 404."""
    return render_template("devmail/show.html", mail=get_mail(get_ctx(), mail_id))
