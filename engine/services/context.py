"""What every service needs: settings, the database and the clock (injectable for tests)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.config import Settings
from engine.db import ReadOnlyWork, UnitOfWork, make_engine, migrate, read_only_engine
from engine.storage import FileStore


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with roles and customers, or the system (CLI, timers).

    A staff member carries its id and staff role instead of a list of customers: its customers are computed in
    SQL per query (engine.services.staff_scope.actor_sees), so a scope check is a WHERE clause, never a load.
    Any other actor (a portal contact) acts for `customer_ids`, and decides Customer-lane tasks of those in
    `decides_for` (the customers it is an approver of, engine.services.portal_scope); None: of all of them.
    """

    name: str
    roles: frozenset[str] = frozenset()
    customer_ids: frozenset[int] = frozenset()
    is_system: bool = False
    staff_id: int | None = None
    staff_role: str | None = None
    decides_for: frozenset[int] | None = None

    def can_complete(self, role: str | None, customer_id: int | None) -> bool:
        """The actor has the task's lane role and, unless a staff member (whose customers are a query, checked
        where the task is read), acts for the task's customer."""
        if self.is_system:
            return True
        if role not in self.roles:
            return False
        if self.staff_id is not None:
            return True
        return customer_id in (self.customer_ids if self.decides_for is None else self.decides_for)


SYSTEM = Actor("system", is_system=True)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    db: Engine
    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=_utcnow)
    _read: tuple[sessionmaker[Session], sessionmaker[Session]] | None = field(default=None, init=False, repr=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def read(self) -> ReadOnlyWork:
        """A unit of work for a service that only reads: it takes no write lock on SQLite (see read_only_engine).

        Its sessions come from session_factory's engine (made once per factory, so a replaced factory counts).
        """
        if self._read is None or self._read[0] is not self.session_factory:
            factory = self.session_factory
            self._read = factory, sessionmaker(read_only_engine(factory.kw["bind"]), expire_on_commit=False)
        return ReadOnlyWork(self._read[1])

    @property
    def files(self) -> FileStore:
        """Where uploads live (SIGNOFF_UPLOAD_DIR; var/uploads in the embedded default)."""
        return FileStore(self.settings.upload_dir, self.settings.upload_max_bytes)

    @property
    def is_postgres(self) -> bool:
        return self.db.dialect.name == "postgresql"


def open_context(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> Context:
    """Connect, migrate the schema to the newest revision, and return a ready Context."""
    settings = settings or Settings.from_env()
    db = make_engine(settings.database_url)
    migrate(db)
    factory = sessionmaker(db, expire_on_commit=False)
    return Context(settings, db, factory, clock or _utcnow)
