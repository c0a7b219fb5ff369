"""The registry of service-task operations: `@service_task("case.set_status")`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.service_tasks.case_writes import CaseWrites


@dataclass
class ServiceContext:
    """What a handler may see and record: never the database (the runtime's save applies `writes`).

    `deadline` is the earliest due time of the instance's open tasks as their rows stand in this
    transaction (the tasks open at load, less the one being completed), or None.
    """

    process_id: str
    now: datetime
    element_id: str
    data: dict[str, Any]
    deadline: datetime | None
    writes: CaseWrites


Handler = Callable[..., dict | None]
_HANDLERS: dict[str, Handler] = {}


def service_task(name: str) -> Callable[[Handler], Handler]:
    """Register `fn(ctx, **params) -> dict | None` under the operation name used in BPMN files."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


def get_handler(name: str) -> Handler | None:
    return _HANDLERS.get(name)


def operation_names() -> list[str]:
    return sorted(_HANDLERS)
