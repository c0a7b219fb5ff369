"""The customer portal blueprint: login with an e-mailed code, the portal pages, an admin's staff view."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from webapp.portal import auth  # noqa: E402, F401, I001 - the session loader on bp
from webapp.portal import views  # noqa: E402, F401 - registers the routes on bp
from webapp.portal import pages  # noqa: E402, F401 - approvals and project views on bp
from webapp.portal import files  # noqa: E402, F401 - visits, documents and downloads on bp
from webapp.portal import email_links  # noqa: E402, F401 - one-click decision links from e-mails on bp
