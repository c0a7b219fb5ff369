"""Staff pages for invoices and quotes: a tab per kind on the customer, create/edit with PDF upload, download.

Admins and managers only; a customer or document outside the staff member's scope is 404. Bad input gives
the form back (400) with a message per field and nothing saved.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import FileField, SelectField, StringField

from engine.errors import InvalidInput
from engine.models import DocumentKind
from engine.services import customers, invoices
from webapp.auth import office_required
from webapp.downloads import send_upload
from webapp.extensions import get_ctx
from webapp.staff import bp
from webapp.staff.forms import options, show_errors

KINDS = tuple(kind.value for kind in DocumentKind)
LABELS = {"invoice": "Invoices", "quote": "Quotes"}


class InvoiceForm(FlaskForm):
    number = StringField("Number")
    issued_on = StringField("Date", description="YYYY-MM-DD")
    amount = StringField("Amount", description="1234.50")
    status = SelectField("Status", choices=[], validate_choice=False)
    pdf = FileField("PDF")


def _kind(value: str | None) -> str:
    kind = value or "invoice"
    if kind not in KINDS:
        abort(404)
    return kind


def _upload() -> tuple[bytes | None, str | None]:
    upload = request.files.get("pdf")
    if upload is None or not upload.filename:
        return None, None
    return upload.read(), upload.filename


@bp.get("/invoices", endpoint="invoices")
@office_required
def invoice_overview():
    kind = _kind(request.args.get("kind"))
    rows = invoices.list_invoices(get_ctx(), kind=kind, staff=g.staff)
    return render_template("staff/invoices/list.html", customer=None, rows=rows, kind=kind, labels=LABELS)


@bp.get("/customers/<int:customer_id>/invoices", endpoint="customer_invoices")
@office_required
def customer_invoices(customer_id: int):
    ctx = get_ctx()
    kind = _kind(request.args.get("kind"))
    customer = customers.get_customer(ctx, customer_id, staff=g.staff)
    rows = invoices.list_invoices(ctx, customer_id, kind=kind, staff=g.staff)
    return render_template("staff/invoices/list.html", customer=customer, rows=rows, kind=kind, labels=LABELS,
                           totals=invoices.invoice_totals(ctx, customer_id, staff=g.staff))


def _form_page(customer: dict, form: InvoiceForm, kind: str, invoice: dict | None, status: int):
    form.status.choices = options([(s, s) for s in invoices.STATUSES[DocumentKind(kind)]])
    return render_template("staff/invoices/form.html", customer=customer, form=form, kind=kind, invoice=invoice,
                           labels=LABELS), status


@bp.route("/customers/<int:customer_id>/invoices/new", methods=["GET", "POST"], endpoint="invoice_new")
@office_required
def invoice_new(customer_id: int):
    ctx = get_ctx()
    kind = _kind(request.values.get("kind"))
    customer = customers.get_customer(ctx, customer_id, staff=g.staff)
    form = InvoiceForm()
    if request.method == "GET":
        form.status.data = invoices.STATUSES[DocumentKind(kind)][0]
    elif form.validate_on_submit():
        data, name = _upload()
        try:
            created = invoices.create_invoice(ctx, customer_id, staff=g.staff, kind=kind, number=form.number.data,
                                              issued_on=form.issued_on.data, amount=form.amount.data,
                                              status=form.status.data, pdf_data=data, pdf_name=name)
        except InvalidInput as err:
            show_errors(form, err)
        else:
            flash(f"{kind.capitalize()} {created['number']} saved.")
            return redirect(url_for("staff.customer_invoices", customer_id=customer_id, kind=kind))
    return _form_page(customer, form, kind, None, 400 if request.method == "POST" else 200)


@bp.route("/customers/<int:customer_id>/invoices/<int:invoice_id>/edit", methods=["GET", "POST"],
          endpoint="invoice_edit")
@office_required
def invoice_edit(customer_id: int, invoice_id: int):
    ctx = get_ctx()
    invoice = invoices.get_invoice(ctx, invoice_id, staff=g.staff, customer_id=customer_id)
    customer = customers.get_customer(ctx, customer_id, staff=g.staff)
    if request.method == "GET":
        form = InvoiceForm(data=invoice)
    else:
        form = InvoiceForm()
        if form.validate_on_submit():
            data, name = _upload()
            try:
                invoices.update_invoice(ctx, invoice_id, staff=g.staff, customer_id=customer_id,
                                        issued_on=form.issued_on.data, amount=form.amount.data,
                                        status=form.status.data, pdf_data=data, pdf_name=name)
            except InvalidInput as err:
                show_errors(form, err)
            else:
                flash(f"{invoice['kind'].capitalize()} {invoice['number']} saved.")
                return redirect(url_for("staff.customer_invoices", customer_id=customer_id, kind=invoice["kind"]))
    return _form_page(customer, form, invoice["kind"], invoice, 400 if request.method == "POST" else 200)


@bp.get("/customers/<int:customer_id>/invoices/<int:invoice_id>/pdf", endpoint="invoice_pdf")
@office_required
def invoice_pdf(customer_id: int, invoice_id: int):
    path, name, content_type = invoices.pdf_file(get_ctx(), invoice_id, staff=g.staff, customer_id=customer_id)
    return send_upload(path, name, content_type)
