"""Real services for the Celery tests: Redis, PostgreSQL, an SMTP server and worker processes."""

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import redis
from aiosmtpd.controller import Controller

from engine.config import Settings
from engine.services.context import open_context
from tests.conftest import IN_CI, ROOT, reset_postgres

REDIS_URL = os.environ.get("SIGNOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class RecordingHandler:
    """Keeps every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_url():
    try:
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
    except redis.exceptions.ConnectionError as err:
        if IN_CI:
            pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}: {err}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def worker_env(postgres_url, broker_url, smtp_server, tmp_path):
    reset_postgres(postgres_url)
    return {
        **os.environ, "SIGNOFF_DATABASE_URL": postgres_url, "SIGNOFF_BROKER_URL": broker_url,
        "SIGNOFF_SMTP_URL": f"smtp://127.0.0.1:{smtp_server[1]}", "SIGNOFF_SWEEP_SECONDS": "0.5",
        "SIGNOFF_VAR_DIR": str(tmp_path), "SIGNOFF_MIN_TIMER_SECONDS": "1",  # periods of a few seconds
    }


@pytest.fixture
def real_ctx(worker_env):
    """A context on the same database the workers use, with the real clock."""
    ctx = open_context(Settings(database_url=worker_env["SIGNOFF_DATABASE_URL"], min_timer_seconds=1))
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start `celery worker --beat` processes; every one still running is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(name: str = "w1", command: list[str] | None = None) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        command = command or [sys.executable, "-m", "celery", "-A", "tasks.celery_app", "worker", "--beat",
                              "--pool", "solo", "--loglevel", "INFO", "-n", f"{name}@%h",
                              "-s", str(tmp_path / f"{name}-beat")]
        process = subprocess.Popen(command, cwd=tmp_path, env={**worker_env, "PYTHONPATH": str(ROOT)},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def wait_for(condition, timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
