"""The registry of service-task operations: `@service_task("case.set_status")`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.models import WorkflowInstance


@dataclass
class ServiceContext:
    """What a handler may touch: the open transaction, the instance and the runtime's clock."""

    session: Session
    instance: WorkflowInstance
    now: datetime
    element_id: str
    data: dict[str, Any]


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
