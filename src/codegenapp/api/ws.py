"""WebSocket /ws?token=…&since=<event id>&project_id=…: every event, live, in id order.

A client that reconnects with the last id it saw first gets what it missed from the table,
then the live stream; ids that arrive out of order or go missing on the bus are filled in
from the table, so a client never skips an event.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from codegenapp.api.deps import token_is_valid
from codegenapp.db.queries import events
from codegenapp.db.tables import event_record
from codegenapp.domain.events import EventRecord
from codegenapp.flows.runtime import Runtime

router = APIRouter()
POLICY_VIOLATION = 1008


class _Stream:
    def __init__(self, websocket: WebSocket, runtime: Runtime, project_id: int | None) -> None:
        self.websocket, self.runtime, self.project_id = websocket, runtime, project_id
        self.last = 0

    async def send(self, event: EventRecord) -> None:
        if self.project_id is None or event.project_id == self.project_id:
            await self.websocket.send_json(event.to_message())

    async def replay(self, until: int | None = None) -> None:
        """Send stored events after `self.last` (up to `until`), in pages."""
        while True:
            async with self.runtime.database.read() as session:
                rows = await events.list_events(session, since=self.last, until=until, limit=500)
            for row in rows:
                await self.send(event_record(row))
                self.last = row.id
            if len(rows) < 500:
                return

    async def follow(self, live: AsyncIterator[EventRecord]) -> None:
        async for event in live:
            if event.id is None:  # a log line: live only
                await self.send(event)
                continue
            if event.id <= self.last:
                continue
            if event.id > self.last + 1:
                await self.replay(until=event.id - 1)
            await self.send(event)
            self.last = event.id


@router.websocket("/ws")
async def stream(
    websocket: WebSocket,
    token: str | None = None,
    since: int | None = None,
    project_id: int | None = None,
) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    if not await token_is_valid(runtime, token):
        # Accepted first, so that a browser client sees the code and the reason.
        await websocket.close(code=POLICY_VIOLATION, reason="a valid token is required")
        return
    output = _Stream(websocket, runtime, project_id)
    async with runtime.bus.subscribe() as live:
        if since is None:
            async with runtime.database.read() as session:
                output.last = await events.latest_event_id(session)
        else:
            output.last = since
            await output.replay()
        sender = asyncio.create_task(output.follow(live))
        receiver = asyncio.create_task(_until_closed(websocket))
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sender, receiver):
            task.cancel()
            # A client that went away mid-send ends the stream; nothing else to report.
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
