"""Portal pages for visits (list and calendar), invoices and quotes, and the files a contact downloads.

Files are served with nosniff and a CSP that lets nothing run; PDFs, zips and receipts as attachments.
"""

import io

from flask import g, render_template, request

from engine.services import portal_files, portal_periods, portal_visits
from webapp.downloads import send_upload
from webapp.extensions import get_ctx
from webapp.input_guard import query_day, query_int
from webapp.portal import bp
from webapp.portal.auth import portal_login_required


@bp.get("/visits", endpoint="visits")
@portal_login_required
def visits():
    employee_id = query_int("employee")
    period = portal_periods.visits_in_period(get_ctx(), g.portal_actor, g.portal_customer.id, query_day("from"),
                                             query_day("to"), employee_id)
    rows = period["visits"]
    employees = sorted({(v["employee_id"], v["employee_name"]) for v in rows}, key=lambda e: (e[1], e[0]))
    return render_template("portal/visits.html", visits=rows, employees=employees, period=period,
                           date_from=period["date_from"], date_to=period["date_to"], employee_id=employee_id)


@bp.get("/calendar", endpoint="calendar")
@portal_login_required
def calendar():
    view = request.args.get("view") or "month"
    calendar_view = portal_visits.visits_calendar(get_ctx(), g.portal_actor, g.portal_customer.id, view,
                                                 query_day("anchor"), query_int("employee"))
    return render_template("portal/calendar.html", cal=calendar_view)


@bp.get("/photos/<int:photo_id>", endpoint="photo")
@portal_login_required
def photo(photo_id: int):
    path, name, content_type = portal_files.photo_file(get_ctx(), g.portal_actor, g.portal_customer.id, photo_id)
    return send_upload(path, portal_files.safe_name(name, f"photo-{photo_id}"), content_type,
                       as_attachment=request.args.get("download") == "1")


@bp.get("/photos.zip", endpoint="photos_zip")
@portal_login_required
def photos_zip():
    data, name = portal_files.photos_zip(get_ctx(), g.portal_actor, g.portal_customer.id,
                                         visit_id=query_int("visit"),
                                         date_from=query_day("from"), date_to=query_day("to"))
    return send_upload(io.BytesIO(data), name, "application/zip")


@bp.get("/receipts/<int:registration_id>", endpoint="receipt")
@portal_login_required
def receipt(registration_id: int):
    path, name, content_type = portal_files.receipt_file(get_ctx(), g.portal_actor, g.portal_customer.id,
                                                         registration_id)
    return send_upload(path, portal_files.safe_name(name, f"receipt-{registration_id}"), content_type)


@bp.get("/documents", endpoint="documents")
@portal_login_required
def documents():
    kind = request.args.get("kind") or "invoice"
    rows = portal_files.list_documents(get_ctx(), g.portal_actor, g.portal_customer.id, kind)
    return render_template("portal/documents.html", documents=rows, kind=kind)


@bp.get("/documents/<int:document_id>.pdf", endpoint="document_pdf")
@portal_login_required
def document_pdf(document_id: int):
    path, name, content_type = portal_files.document_pdf(get_ctx(), g.portal_actor, g.portal_customer.id,
                                                         document_id)
    return send_upload(path, name, content_type)
