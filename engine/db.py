"""Database engine, sessions and the UnitOfWork (one public service call = one transaction); the hot path's
prebuilt statements (`Prebuilt`, `pipelined`)."""

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from psycopg.pq import ConnStatus
from sqlalchemy import Connection, Engine, Insert, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from engine.config import PROJECT_ROOT
from engine.errors import InvalidInput

READ_ONLY = "signoff_read_only"  # execution option of read_only_engine's connections on SQLite


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write transactions that start IMMEDIATE.

    BEGIN IMMEDIATE makes SQLite writers queue up instead of failing on a stale snapshot, which is how
    two people completing the same task end up as one winner and one clear "already completed". Only the
    transactions of read_only_engine start deferred.
    """
    _check_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # No JIT compilation: it pays off for long analytic queries, but the inbox's statements cost enough in the
    # planner's eyes to be compiled on every run (35 ms of a 60 ms query at 100,000 open tasks)
    engine = create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"})
    if engine.dialect.driver == "psycopg":
        engine.dialect.do_ping = _ping_idle_socket
    return engine


def _ping_idle_socket(dbapi_connection) -> bool:
    """The pool's pre-ping without a round trip (a `SELECT 1` was one more per transaction, ~1/5 of a step's
    time on PostgreSQL): an idle connection has nothing to read unless the server has given up on it (a
    restart or pg_terminate_backend sends its notice and closes the socket). False makes the pool reconnect.
    """
    pgconn = dbapi_connection.pgconn
    if dbapi_connection.closed or pgconn.status != ConnStatus.OK:
        return False
    readable, _, _ = select.select([pgconn.socket], [], [], 0)
    return not readable


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


def _check_url(url: str) -> None:
    """:raises InvalidInput: naming SIGNOFF_DATABASE_URL, when `url` is not a database URL this install can use."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as err:
        shown = url if "@" not in url else "(a URL with credentials)"
        raise InvalidInput(f"SIGNOFF_DATABASE_URL: {shown} is not a database URL Signoff can use ({err}); use "
                           "sqlite:///path/to/signoff.db or postgresql+psycopg://user@host/db") from None


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


class Prebuilt:
    """A Core statement compiled once per dialect (and set of columns), sent straight to the driver's cursor.

    The hot path's statements are fixed, so SQLAlchemy's per-call work (cache key, execution context, result
    object) buys nothing there: about a third of a save's CPU on SQLite. The values go through the same bind
    processors SQLAlchemy would apply (UtcDateTime, JSON), scalar Python-side column defaults are filled in,
    and `before_cursor_execute` listeners still see every statement (the statement-count guard counts them).
    A SELECT's row comes back (`first`) through its columns' result processors.
    """

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple, tuple] = {}

    def _build(self, dialect, keys: tuple[str, ...]) -> tuple:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        if compiled.post_compile_params:  # an IN list of values: rendered as one bind each (its binds optional)
            compiled = self.statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        defaults = compiled.construct_params(_check=False)
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            if column.default is None or not column.default.is_scalar:
                raise TypeError(f"{column}: only scalar Python-side defaults are filled in on the hot path")
            defaults[column.key] = column.default.arg
        processors = compiled._bind_processors
        names = list(compiled.positiontup) if dialect.positional else list(defaults)
        results = [column.type._cached_result_processor(dialect, None) for column in compiled._result_columns]
        return (compiled.string, names, {name: defaults.get(name) for name in names}, processors, dialect.positional,
                results if any(results) else None)

    def _built(self, conn: Connection, params: dict) -> tuple:
        keys = tuple(sorted(params)) if isinstance(self.statement, Insert) else ()
        cache_key = (conn.dialect.name, keys)
        built = self._compiled.get(cache_key)
        if built is None:
            built = self._compiled[cache_key] = self._build(conn.dialect, keys)
        return built

    def execute(self, conn: Connection, params: dict | list[dict]):
        """Execute with one set of values, or as an executemany with a list; returns the driver's cursor
        (its rowcount is known once a `pipelined` block has ended)."""
        many = isinstance(params, list)
        sql, names, defaults, processors, positional, _ = self._built(conn, params[0] if many else params)

        def bound(values: dict):
            row = defaults | values
            for name, process in processors.items():
                if name in row:
                    row[name] = process(row[name])
            return tuple(row[name] for name in names) if positional else {name: row[name] for name in names}

        driver_params = [bound(values) for values in params] if many else bound(params)
        cursor = conn.connection.driver_connection.cursor()
        if conn._has_events or conn.engine._has_events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, driver_params, None, many)
        if many:
            cursor.executemany(sql, driver_params)
        else:
            cursor.execute(sql, driver_params)
        return cursor

    def first(self, conn: Connection, params: dict) -> tuple | None:
        """A SELECT's (or an INSERT .. RETURNING's) first row with the columns' result processors applied
        (UtcDateTime, JSON), or None."""
        found = self.execute(conn, params).fetchone()
        results = self._built(conn, params)[5]
        if found is None or results is None:
            return found
        return tuple(value if process is None or value is None else process(value)
                     for value, process in zip(found, results, strict=True))


def as_loaded(session: Session, cls: type, values: dict):
    """The mapped object of `cls` with these column values, in the session as if a query had loaded it (with
    populate_existing: an object the session already has is refreshed, not duplicated)."""
    mapper = cls.__mapper__
    existing = session.identity_map.get(mapper.identity_key_from_primary_key(
        [values[column.key] for column in mapper.primary_key]))
    if existing is not None:
        for name, value in values.items():
            set_committed_value(existing, name, value)
        return existing
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(values)  # as the ORM's loading fills a new object; the next call commits it all
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the statements of the block in one round trip where the driver can (psycopg's pipeline mode).

    Errors and rowcounts arrive when the block ends; a block whose checks fail there must not commit.
    """
    driver = conn.connection.driver_connection
    if hasattr(driver, "pipeline"):
        with driver.pipeline():
            yield
    else:
        yield
