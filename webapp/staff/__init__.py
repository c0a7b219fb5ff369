"""The staff blueprint: login, logout, inbox and task pages."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from webapp.staff import customers  # noqa: E402, F401, I001 - customer and job pages on bp
from webapp.staff import approvals  # noqa: E402, F401, I001 - Customer Approval screen, settings, policy
from webapp.staff import bindings  # noqa: E402, F401, I001 - the Processes selects on settings and policy
from webapp.staff import email_templates  # noqa: E402, F401, I001 - admins edit the e-mail templates
from webapp.staff import customer_extras  # noqa: E402, F401, I001 - journal, resources, message, QR
from webapp.staff import customer_mails  # noqa: E402, F401, I001 - which approval mails a customer gets
from webapp.staff import invoices  # noqa: E402, F401, I001 - invoices and quotes
from webapp.staff import staff_users  # noqa: E402, F401, I001 - staff account management (admins)
from webapp.staff import account  # noqa: E402, F401, I001 - a staff member changes its own password
from webapp.staff import stand_ins  # noqa: E402, F401, I001 - out-of-office stand-ins (own, and admins for anyone)
from webapp.staff import views  # noqa: E402, F401 - registers the routes on bp
from webapp.staff import work_registrations, work_visits  # noqa: E402, F401 - registrations, jobs and visits
