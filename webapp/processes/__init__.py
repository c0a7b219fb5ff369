"""The processes blueprint (/processes, managers and admins): versions, upload, download, the bpmn-js modeller
(pages.py) and the modeller's JSON endpoints under /processes/api (api.py)."""

from flask import Blueprint, request

from webapp.security import CSP

bp = Blueprint("processes", __name__, url_prefix="/processes")

# bpmn-js's and the properties panel's stylesheets draw two small icons (a checked checkbox, a drop marker) as
# data: SVG images, which `img-src 'self'` refuses; on the modeller page only, images may also be data: URIs
# (an image cannot run script). Scripts and styles stay 'self'.
MODELLER_CSP = CSP.replace("img-src 'self'", "img-src 'self' data:")


@bp.after_request
def _modeller_policy(response):
    if request.endpoint == "processes.modeller":
        response.headers["Content-Security-Policy"] = MODELLER_CSP
    return response


from webapp.processes import pages  # noqa: E402, F401, I001 - register the page routes on bp
from webapp.processes.api import api  # noqa: E402 - the JSON endpoints, /processes/api/…

bp.register_blueprint(api)
