"""The in-process bus: one bounded queue per subscriber."""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from codegenapp.domain.events import EventRecord

log = logging.getLogger(__name__)
SUBSCRIBER_BACKLOG = 10_000


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[EventRecord]] = set()

    async def publish(self, events: Sequence[EventRecord]) -> None:
        self.deliver(events)

    def deliver(self, events: Sequence[EventRecord]) -> None:
        for queue in list(self._subscribers):
            for event in events:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # A stuck client must not hold up the flows; it catches up from the table.
                    log.warning("event subscriber is %d behind; dropping", queue.qsize())
                    break

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[EventRecord]]:
        queue: asyncio.Queue[EventRecord] = asyncio.Queue(maxsize=SUBSCRIBER_BACKLOG)
        self._subscribers.add(queue)
        try:
            yield _drain(queue)
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        self._subscribers.clear()


async def _drain(queue: asyncio.Queue[EventRecord]) -> AsyncIterator[EventRecord]:
    while True:
        yield await queue.get()
