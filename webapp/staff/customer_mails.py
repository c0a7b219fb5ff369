"""A customer's mail settings: which approval mails its contacts get (engine.services.customer_notifications)."""

from flask import flash, g, redirect, render_template, request, url_for

from engine.services import customer_notifications
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.staff import bp


@bp.route("/customers/<int:customer_id>/mails", methods=["GET", "POST"], endpoint="customer_mails")
@office_required
def customer_mails(customer_id: int):
    ctx = get_ctx()
    if request.method == "POST":  # CSRFProtect has checked the token
        saved = customer_notifications.set_customer_mails(ctx, customer_id, staff=g.staff,
                                                          on=set(request.form.getlist("mail")))
        on = [mail["label"].lower() for mail in saved["mails"] if mail["on"]]
        flash(f"Mails of {saved['customer_name']} saved: {', '.join(on) if on else 'no approval mails'}.")
        return redirect(url_for("staff.customer_mails", customer_id=customer_id))
    settings = customer_notifications.get_customer_mails(ctx, customer_id, staff=g.staff)
    return render_template("staff/customers/mails.html", settings=settings)
