"""/api/v1/events: the activity feed and audit trail."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from codegenapp.api.deps import SessionDep
from codegenapp.api.params import EventCursor, EventLimit, IdFilter
from codegenapp.api.schemas.events import EventRead
from codegenapp.db.queries import events

router = APIRouter(prefix="/events", tags=["events"])
Order = Literal["oldest_first", "newest_first"]


@router.get("")
async def list_events(
    session: SessionDep,
    since: EventCursor = 0,
    project_id: IdFilter = None,
    agent_run_id: IdFilter = None,
    validation_id: IdFilter = None,
    limit: EventLimit = 200,
    order: Annotated[
        Order,
        Query(
            description="`oldest_first` (catching up): the first `limit` events after `since`. "
            "`newest_first` (a feed): the last `limit` of them."
        ),
    ] = "oldest_first",
) -> list[EventRead]:
    """Events after `since`, oldest first; or the newest of them, newest first."""
    query = events.newest_events if order == "newest_first" else events.list_events
    rows = await query(
        session,
        since=since,
        project_id=project_id,
        agent_run_id=agent_run_id,
        validation_id=validation_id,
        limit=limit,
    )
    return [EventRead.of(row) for row in rows]
