"""A retry on the newest version of a case's process: allowed when every element the case is at exists there."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.models import ProcessVersion
from engine.services.context import Context
from engine.workflow import runtime
from engine.workflow.variables import missing_elements


def newest_version_for_retry(session: Session, ctx: Context,
                             loaded: runtime.LoadedInstance) -> tuple[runtime.LoadedInstance, int]:
    """The locked case loaded again on its process's newest version, and that version's number (the row's
    version id changes; the save writes it).

    :raises InvalidInput: a newer version lacks elements the case has run or waits at (named); the case is
        already on the newest version, which is then said too.
    """
    row = loaded.row
    newest = session.execute(select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.bpmn_hash)
                             .where(ProcessVersion.process_id == row.process_id)
                             .order_by(ProcessVersion.version.desc()).limit(1)).one()
    if newest.id == row.process_version_id:
        raise InvalidInput(f"instance {row.id} is already on the newest version ({newest.version}) of "
                           f"{row.process_id}; retry without --newest-version")
    process = runtime.process_for(session, newest.id, newest.bpmn_hash)
    missing = missing_elements(loaded.workflow, process.spec)
    if missing:
        raise InvalidInput(f"instance {row.id} cannot run on version {newest.version} of {row.process_id}: "
                           f"{', '.join(missing)} no longer exist(s) there; retry on its own version")
    row.process_version_id = newest.id
    return runtime.load(session, row, ctx.clock, ctx.settings, newest.bpmn_hash), newest.version
