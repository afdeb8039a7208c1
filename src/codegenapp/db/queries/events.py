"""Event rows: recorded beside every state change, read back by the activity feed and by
live clients catching up with `since=<id>`."""

from collections.abc import Mapping

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.engine import PENDING_EVENTS
from codegenapp.db.tables import EventRow
from codegenapp.domain.events import EventType, JsonValue

_EVENT_ORDER_LOCK = 0x0C0DE9E7
_LOCK_TAKEN = "codegenapp.event_lock_taken"


async def hold_event_order(session: AsyncSession) -> None:
    """Take the lock that orders event ids (PostgreSQL; held until the commit). A transaction
    that locks a row and records an event must take this first: taken after the row lock, it
    deadlocks with one that recorded an event and then waits for that row (an insert that
    refers to a locked project waits for it too)."""
    # PostgreSQL hands out sequence values before commit, so two transactions can commit their
    # events out of id order and a client resuming from `since` would skip the later-committed,
    # lower id. Holding this lock until commit makes event ids commit in order.
    if session.info.get(_LOCK_TAKEN) or session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_ORDER_LOCK})
    session.info[_LOCK_TAKEN] = True


async def record(
    session: AsyncSession,
    type: EventType,
    *,
    project_id: int | None,
    data: Mapping[str, JsonValue],
    agent_run_id: int | None = None,
    validation_id: int | None = None,
) -> None:
    """Add an event to the current transaction; it is written with the transaction's other
    changes and published after the commit (see `Database.transaction`)."""
    await hold_event_order(session)
    row = EventRow(
        type=type.value,
        project_id=project_id,
        agent_run_id=agent_run_id,
        validation_id=validation_id,
        data=dict(data),
    )
    session.add(row)
    session.info.setdefault(PENDING_EVENTS, []).append(row)


def _matching(
    query: Select[EventRow],
    *,
    project_id: int | None,
    agent_run_id: int | None,
    validation_id: int | None,
) -> Select[EventRow]:
    if project_id is not None:
        query = query.where(EventRow.project_id == project_id)
    if agent_run_id is not None:
        query = query.where(EventRow.agent_run_id == agent_run_id)
    if validation_id is not None:
        query = query.where(EventRow.validation_id == validation_id)
    return query


async def list_events(
    session: AsyncSession,
    *,
    since: int = 0,
    until: int | None = None,
    project_id: int | None = None,
    agent_run_id: int | None = None,
    validation_id: int | None = None,
    limit: int = 500,
) -> list[EventRow]:
    """Events with `since < id (<= until)`, oldest first: what a client catching up reads."""
    query = select(EventRow).where(EventRow.id > since).order_by(EventRow.id).limit(limit)
    if until is not None:
        query = query.where(EventRow.id <= until)
    query = _matching(
        query, project_id=project_id, agent_run_id=agent_run_id, validation_id=validation_id
    )
    return list((await session.scalars(query)).all())


async def newest_events(
    session: AsyncSession,
    *,
    since: int = 0,
    project_id: int | None = None,
    agent_run_id: int | None = None,
    validation_id: int | None = None,
    limit: int = 200,
) -> list[EventRow]:
    """The last `limit` events with `since < id`, newest first: what an activity feed opens on."""
    query = select(EventRow).where(EventRow.id > since).order_by(EventRow.id.desc()).limit(limit)
    query = _matching(
        query, project_id=project_id, agent_run_id=agent_run_id, validation_id=validation_id
    )
    return list((await session.scalars(query)).all())


async def latest_event_id(session: AsyncSession) -> int:
    return (await session.scalar(select(func.max(EventRow.id)))) or 0
