"""The embedded default's background worker: a thread running the timer sweeper and outbox delivery.

Production runs the same two service calls from Celery beat; nothing in the engine knows which.
"""

import logging
import threading

from engine.mail.transport import Transport
from engine.services.context import Context
from engine.services.outbox import deliver_due_messages
from engine.services.timers import fire_due_timers

log = logging.getLogger(__name__)


class BackgroundWorker(threading.Thread):
    """Every `interval` seconds: fire due timers, then deliver due mail. `stop()` ends it."""

    def __init__(self, ctx: Context, transport: Transport, interval: float):
        super().__init__(name="signoff-background", daemon=True)
        self.ctx = ctx
        self.transport = transport
        self.interval = interval
        self._stopping = threading.Event()

    def run_once(self) -> None:
        fire_due_timers(self.ctx)
        deliver_due_messages(self.ctx, self.transport)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:  # keep the loop alive; the next round retries from the database
                log.exception("background round failed")
            self._stopping.wait(self.interval)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30)
