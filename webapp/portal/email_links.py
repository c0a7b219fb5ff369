"""The landing pages of one-click decision links from e-mails (engine.services.email_decisions).

They need no portal login: the signed link names the contact and the task, and acts only as that contact on that
task. GET only shows the confirmation (mail scanners that follow links decide nothing); the POST decides. A link
that is expired, used, tampered or void gets a portal-styled page with a way to log in, never a staff error page.
"""

from flask import render_template, request

from engine.errors import InvalidInput
from engine.services import email_decisions
from engine.services.email_decisions import LinkRejected
from webapp.extensions import get_ctx
from webapp.portal import bp


def _rejected(err: LinkRejected):
    return render_template("portal/link_rejected.html", message=str(err)), 410


@bp.get("/decide/<token>", endpoint="email_decision")
def confirm(token: str):
    try:
        view = email_decisions.get_confirmation(get_ctx(), token)
    except LinkRejected as err:
        return _rejected(err)
    return render_template("portal/link_confirm.html", view=view, token=token, error=None, comment="")


@bp.post("/decide/<token>", endpoint="email_decision_post")
def decide(token: str):
    comment = request.form.get("comment", "")
    try:
        view = email_decisions.decide_by_link(get_ctx(), token, comment)
    except LinkRejected as err:
        return _rejected(err)
    except InvalidInput as err:
        try:
            view = email_decisions.get_confirmation(get_ctx(), token)
        except LinkRejected as again:
            return _rejected(again)
        return render_template("portal/link_confirm.html", view=view, token=token, error=str(err),
                               comment=comment), 400
    return render_template("portal/link_done.html", view=view)
