"""Shared fixtures: a Context per database (SQLite always, PostgreSQL when configured) and a fake clock."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.config import Settings
from engine.models import Base
from engine.services.context import open_context
from engine.services.deployments import deploy_process

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("SIGNOFF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"


class FakeClock:
    """A clock a test can move: `clock.advance(days=3)`."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def _postgres_available() -> bool:
    try:
        with sa.create_engine(POSTGRES_URL).connect():
            return True
    except sa.exc.OperationalError:
        return False


def _reset_postgres() -> None:
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'signoff.db'}"
    if not _postgres_available():
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    _reset_postgres()
    return POSTGRES_URL


@pytest.fixture
def ctx(database_url, clock):
    context = open_context(Settings(database_url=database_url), clock=clock)
    yield context
    context.db.dispose()


@pytest.fixture
def deploy(ctx):
    def deploy_file(path: str, **kwargs):
        data = (ROOT / path).read_bytes()
        return deploy_process(ctx, data, Path(path).name, **kwargs)

    return deploy_file
