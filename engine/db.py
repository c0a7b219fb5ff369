"""Database engine, sessions and the UnitOfWork (one public service call = one transaction)."""

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.config import PROJECT_ROOT

READ_ONLY = "signoff_read_only"  # execution option of read_only_engine's connections on SQLite


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write transactions that start IMMEDIATE.

    BEGIN IMMEDIATE makes SQLite writers queue up instead of failing on a stale snapshot, which is how
    two people completing the same task end up as one winner and one clear "already completed". Only the
    transactions of read_only_engine start deferred.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def read_only_engine(engine: Engine) -> Engine:
    """The same pool, for transactions that only read (every page view asks who is logged in first).

    On SQLite they BEGIN deferred: in WAL mode a reader takes no lock and reads one snapshot, so readers in
    several gunicorn workers run side by side instead of queueing for the write lock (and sleeping in SQLite's
    busy handler). On PostgreSQL they run in autocommit: no BEGIN and ROLLBACK round trips, and each statement
    reads committed data as it does under READ COMMITTED anyway.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _begin_sqlite(conn) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (tables are created on first use)."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class UnitOfWork:
    """`with uow: ...; uow.commit()` — commits once, runs after-commit hooks, rolls back otherwise."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self._session_factory = session_factory
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        self._after_commit = []
        return self

    def __exit__(self, *exc) -> None:
        # close() rolls back anything uncommitted; unlike rollback() it leaves loaded objects readable.
        self.session.close()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` only once the transaction has committed (outside effects, e.g. waking a worker)."""
        self._after_commit.append(hook)

    def commit(self) -> None:
        self.session.commit()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()


class ReadOnlyWork(UnitOfWork):
    """`with ctx.read() as uow: ...` for a service that only reads (on read_only_engine): nothing to commit."""

    def commit(self) -> None:
        raise RuntimeError("a read-only unit of work cannot commit: a service that writes uses ctx.uow()")
