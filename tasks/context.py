"""One engine Context per worker process, opened on first use."""

from functools import cache

from engine.mail.transport import Transport, make_transport
from engine.services.context import Context, open_context


@cache
def worker_context() -> Context:
    return open_context()


@cache
def worker_transport() -> Transport:
    return make_transport(worker_context().settings.smtp_url)
