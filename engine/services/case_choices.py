"""The choices of the case list's filter form: the processes with their versions, the case statuses the screens
know, and the customers in the actor's scope (by name). Read-only, a few narrow queries, no serialized state."""

from sqlalchemy import select

from engine.models import Customer, InstanceStatus, ProcessVersion
from engine.service_tasks.handlers import CASE_STATUSES
from engine.services.context import Actor, Context
from engine.services.staff_scope import actor_sees

MAX_CUSTOMERS = 500  # a longer list is not a select any more; the customer filter takes any id in the URL


def list_case_choices(ctx: Context, actor: Actor) -> dict:
    """{"processes": [(process id, [versions, newest first])], "statuses": [...], "case_statuses": [...],
    "customers": [(id, name)]} for the filter form; customers outside the actor's scope are left out."""
    with ctx.read() as uow:
        session = uow.session
        versions: dict[str, list[int]] = {}
        for process_id, version in session.execute(select(ProcessVersion.process_id, ProcessVersion.version)
                                                   .order_by(ProcessVersion.process_id,
                                                             ProcessVersion.version.desc())):
            versions.setdefault(process_id, []).append(version)
        customers = session.execute(select(Customer.id, Customer.name).where(actor_sees(actor, Customer.id))
                                    .order_by(Customer.name, Customer.id).limit(MAX_CUSTOMERS)).all()
    return {"processes": list(versions.items()), "statuses": [str(s) for s in InstanceStatus],
            "case_statuses": sorted(CASE_STATUSES), "customers": [(cid, name) for cid, name in customers]}
