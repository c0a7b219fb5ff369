"""/processes pages: the list of processes with their versions, upload, download and the modeller page."""

import json

from flask import flash, g, make_response, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from flask_wtf.file import FileField, FileRequired

from engine.errors import DeployError
from engine.services import process_catalog
from engine.services.deployments import deploy_file
from webapp.auth import office_required
from webapp.extensions import get_ctx
from webapp.input_guard import query_process_version
from webapp.processes import bp
from webapp.processes.replies import deployed_sentence, problem_dicts


class UploadForm(FlaskForm):
    file = FileField("BPMN file", validators=[FileRequired("Choose a .bpmn file to upload.")])


def _render_list(form: UploadForm, problems: list[dict] | None = None, status: int = 200):
    processes = process_catalog.list_processes(get_ctx(), g.actor)
    return render_template("processes/list.html", processes=processes, form=form, problems=problems or []), status


@bp.get("/", endpoint="index")
@office_required
def index():
    return _render_list(UploadForm())


@bp.post("/upload", endpoint="upload")
@office_required
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_list(form, status=400)
    upload_file = form.file.data
    filename = (upload_file.filename or "").rsplit("/", 1)[-1] or "upload.bpmn"
    if not filename.lower().endswith((".bpmn", ".xml")):
        form.file.errors.append(f"{filename[:80]}: not a .bpmn file")
        return _render_list(form, status=400)
    try:
        deployed = deploy_file(get_ctx(), g.actor, upload_file.read(), filename)
    except DeployError as err:
        return _render_list(form, problem_dicts(err), status=400)
    flash(deployed_sentence(deployed))
    return redirect(url_for("processes.index"))



@bp.get("/download", endpoint="download")
@office_required
def download():
    process_id, version = query_process_version()
    summary, xml = process_catalog.get_version(get_ctx(), g.actor, process_id, version)
    response = make_response(xml)
    response.mimetype = "application/xml"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{summary.process_id}.bpmn"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/modeller", endpoint="modeller")
@office_required
def modeller():
    process_id, version = query_process_version()
    ctx = get_ctx()
    summary, _xml = process_catalog.get_version(ctx, g.actor, process_id, version)
    latest = next((p.latest for p in process_catalog.list_processes(ctx, g.actor) if p.process_id == process_id),
                  summary.version)
    return render_template(
        "processes/modeller.html", summary=summary, latest=latest, csrf=generate_csrf(),
        topics=json.dumps(process_catalog.service_topics()), variables=json.dumps(process_catalog.process_variables()),
        xml_url=url_for("processes.download", process=summary.process_id, version=summary.version))
