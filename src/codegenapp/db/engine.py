"""Engines, sessions and the one transaction helper that publishes events after commit."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from codegenapp.db.tables import EventRow, event_record
from codegenapp.domain.events import EventRecord

EventSink = Callable[[Sequence[EventRecord]], Awaitable[None]]
PENDING_EVENTS = "codegenapp.pending_events"


async def _discard(_: Sequence[EventRecord]) -> None:
    return None


def _sqlite_pragmas(dbapi_connection: object, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the one writer; NORMAL sync is durable across process
    # crashes (the case we test), only a power cut may lose the last commits.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=10000",
    ):
        cursor.execute(pragma)
    cursor.close()


def _writes_take_the_lock_first(engine: AsyncEngine) -> None:
    """SQLite: begin write transactions with BEGIN IMMEDIATE.

    A deferred transaction that reads, then writes, fails at once with SQLITE_BUSY if another
    connection committed in between; taking the write lock up front makes it wait instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _no_implicit_begin(dbapi_connection: object, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, writer: bool = True) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=5 if writer else 10, max_overflow=5)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if writer:
            _writes_take_the_lock_first(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    """Our database: `transaction()` for writes (events published after commit), `read()` for
    reads. On SQLite the two use separate engines so that reads never queue behind writes."""

    def __init__(self, url: str, *, on_commit: EventSink = _discard) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = make_engine(url, writer=True)
        self._read_engine = make_engine(url, writer=False) if self.is_sqlite else self.engine
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self._read_engine, expire_on_commit=False)
        self.on_commit = on_commit

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits at the end, rolls back on error; the events it recorded
        are published only once the commit has succeeded."""
        async with self._sessions() as session:
            async with session.begin():
                yield session
                # One flush writes every change and every event row together; the rows get
                # their ids here, before the commit makes them visible.
                await session.flush()
                rows: list[EventRow] = session.info.pop(PENDING_EVENTS, [])
            events = [event_record(row) for row in rows]
        if events:
            await self.on_commit(events)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()
