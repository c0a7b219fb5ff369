"""The embedded default's background worker: a thread running the timer sweeper and outbox delivery.

Production runs the same sweep from Celery beat; nothing in the engine knows which. The thread survives
anything one round raises (engine.services.sweeps records it in the worker's heartbeat); only `stop()`
ends it.
"""

import logging
import threading

from engine.mail.transport import Transport
from engine.services.context import Context
from engine.services.outbox import deliver_due_messages
from engine.services.sweeps import SweepResult, run_sweep, worker_name
from engine.services.timers import fire_due_timers

log = logging.getLogger(__name__)


class BackgroundWorker(threading.Thread):
    """Every `interval` seconds: fire due timers, then deliver due mail. `stop()` ends it."""

    def __init__(self, ctx: Context, transport: Transport, interval: float):
        super().__init__(name="signoff-background", daemon=True)
        self.ctx = ctx
        self.transport = transport
        self.interval = interval
        self.worker = worker_name("embedded")
        self._stopping = threading.Event()

    def run_once(self) -> SweepResult:
        ctx, transport = self.ctx, self.transport
        return run_sweep(ctx, self.worker, {
            "timers": lambda: f"{len(fire_due_timers(ctx))} instance(s) advanced",
            "mail": lambda: f"{len(deliver_due_messages(ctx, transport))} mail(s) handled",
        })

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except BaseException:  # noqa: BLE001 - in this thread even SystemExit can only come from a round
                if self._stopping.is_set():
                    return
                log.exception("background round failed; the next round retries from the database")
            self._stopping.wait(self.interval)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30)
