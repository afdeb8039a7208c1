"""WebSocket /ws?token=…&since=<event id>&project_id=…: every event, live, in id order.

A client that reconnects with the last id it saw first gets what it missed from the table,
then the live stream; ids that arrive out of order or go missing on the bus are filled in
from the table, so a client never skips an event.

A thousand dashboards reconnecting at once must not take the server from the API: at most
`CATCH_UP_SLOTS` clients catch up at a time, a page each (read, then sent within
`PAGE_SEND_SEC`, or the client is dropped), so API requests always find a database
connection, and an event loop that is not busy sending a million replayed messages.

A browser page from another origin may not connect at all: the token sits in the
dashboard's storage, but a page elsewhere could still have guessed or phished one.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from codegenapp.api.deps import TokenCheck
from codegenapp.db.queries import events
from codegenapp.db.tables import event_record
from codegenapp.domain.events import EventRecord
from codegenapp.domain.limits import MAX_EVENT_ID, MAX_ID
from codegenapp.flows.runtime import Runtime

router = APIRouter()
POLICY_VIOLATION = 1008
CATCH_UP_SLOTS = 2
PAGE = 500
PAGE_SEND_SEC = 10.0
YIELD_EVERY = 10
_GONE = (WebSocketDisconnect, RuntimeError, OSError)  # what sending to a departed client raises


class _Stream:
    def __init__(
        self,
        websocket: WebSocket,
        runtime: Runtime,
        project_id: int | None,
        slots: asyncio.Semaphore,
    ) -> None:
        self.websocket, self.runtime, self.project_id = websocket, runtime, project_id
        self.slots = slots
        self.last = 0

    async def send(self, event: EventRecord) -> None:
        if self.project_id is None or event.project_id == self.project_id:
            await self.websocket.send_json(event.to_message())

    async def replay(self, until: int | None = None) -> None:
        """Send stored events after `self.last` (up to `until`), a page per turn of a slot.
        Raise `TimeoutError` when the client does not take a page in time."""
        while await self._replay_page(until):
            pass

    async def _replay_page(self, until: int | None) -> bool:
        """One page, in a slot; whether there may be more. The page's rows live only here: a
        client waiting for its next turn holds no memory."""
        async with self.slots:
            async with self.runtime.database.read() as session:
                rows = await events.list_events(session, since=self.last, until=until, limit=PAGE)
            async with asyncio.timeout(PAGE_SEND_SEC):
                for n, row in enumerate(rows, 1):
                    await self.send(event_record(row))
                    self.last = row.id
                    if n % YIELD_EVERY == 0:
                        # A send that fits the socket's buffer does not yield: without this,
                        # a page would hold the event loop for tens of milliseconds.
                        await asyncio.sleep(0)
        return len(rows) == PAGE

    async def start_at_newest(self) -> None:
        async with self.slots, self.runtime.database.read() as session:
            self.last = await events.latest_event_id(session)

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


def origin_allowed(websocket: WebSocket, extra: frozenset[str]) -> bool:
    """No Origin: not a browser. Otherwise the page must be the server's own, or listed."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host", "")
    return origin.rstrip("/") in {f"http://{host}", f"https://{host}", *extra}


@router.websocket("/ws")
async def stream(
    websocket: WebSocket,
    token: str | None = None,
    since: Annotated[int | None, Query(ge=0, le=MAX_EVENT_ID)] = None,
    project_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if not origin_allowed(websocket, runtime.settings.extra_origins):
        # Refused before the handshake: the browser gets a 403 and no socket.
        await websocket.close(code=POLICY_VIOLATION, reason="this origin may not connect")
        return
    slots: asyncio.Semaphore = websocket.app.state.catch_up_slots
    check: TokenCheck = websocket.app.state.token_check
    async with slots:  # a thousand handshakes at once take their turns too
        await websocket.accept()
        valid = await check(runtime, token)
    if not valid:
        # Accepted first, so that a browser client sees the code and the reason.
        await websocket.close(code=POLICY_VIOLATION, reason="a valid token is required")
        return
    output = _Stream(websocket, runtime, project_id, slots)
    async with runtime.bus.subscribe() as live:
        if since is None:
            await output.start_at_newest()
        else:
            output.last = since
            try:
                await output.replay()
            except TimeoutError:
                with contextlib.suppress(*_GONE):
                    await websocket.close(code=POLICY_VIOLATION, reason="too slow to catch up")
                return
            except _GONE:  # the client left while catching up
                return
        sender = asyncio.create_task(output.follow(live))
        receiver = asyncio.create_task(_until_closed(websocket))
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sender, receiver):
            task.cancel()
            # A client that went away mid-send ends the stream; nothing else to report.
            with contextlib.suppress(asyncio.CancelledError, *_GONE):
                await task


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
