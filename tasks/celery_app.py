"""The Celery app, configured from the environment (SIGNOFF_BROKER_URL, SIGNOFF_SWEEP_SECONDS).

Timers are not Celery ETA tasks: beat runs the sweeper every few seconds and the database `timer`
table is the truth, so a long approval period never sits in a broker or a worker's memory.
"""

from celery import Celery

from engine.config import Settings

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def make_celery(settings: Settings) -> Celery:
    app = Celery("signoff", broker=settings.broker_url or DEFAULT_BROKER, include=["tasks.workflow", "tasks.email"])
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_serializer="json",
        task_ignore_result=True, result_backend=None,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, timezone="UTC", enable_utc=True,
        beat_schedule={
            "sweep-due-timers": {"task": "tasks.workflow.sweep_due_timers", "schedule": settings.sweep_seconds},
            "deliver-outbox": {"task": "tasks.email.deliver_outbox", "schedule": settings.sweep_seconds},
        },
    )
    return app


app = make_celery(Settings.from_env())
