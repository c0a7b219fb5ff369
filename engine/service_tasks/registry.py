"""The registry of service-task operations: `@service_task("case.set_status", description="…")`."""

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
_DESCRIPTIONS: dict[str, str] = {}


def service_task(name: str, description: str = "") -> Callable[[Handler], Handler]:
    """Register `fn(ctx, **params) -> dict | None` under the operation name used in BPMN files, with a one-line
    description for the modeller (the first line of the handler's docstring if none is given)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        _DESCRIPTIONS[name] = description or (fn.__doc__ or "").strip().split("\n")[0]
        return fn

    return register


def operation_descriptions() -> list[tuple[str, str]]:
    """(operation name, one-line description) of every registered operation, by name."""
    return [(name, _DESCRIPTIONS.get(name, "")) for name in sorted(_HANDLERS)]


def get_handler(name: str) -> Handler | None:
    return _HANDLERS.get(name)


def operation_names() -> list[str]:
    return sorted(_HANDLERS)
