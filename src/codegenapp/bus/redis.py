"""The Redis pub/sub bus: every API replica hears every event.

Each process still fans out locally through a `MemoryBus`; Redis only carries events between
processes. A process hears its own publications back through Redis, so local subscribers get
each event exactly once, in the order Redis delivers them.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import redis.asyncio as redis

from codegenapp.bus.memory import MemoryBus
from codegenapp.domain.events import EventRecord, EventType
from codegenapp.domain.ids import EventId, ProjectId

log = logging.getLogger(__name__)


def _encode(event: EventRecord) -> str:
    return json.dumps(event.to_message(), separators=(",", ":"))


def _decode(raw: str | bytes) -> EventRecord:
    message = json.loads(raw)
    return EventRecord(
        id=EventId(message["id"]) if message["id"] is not None else None,
        type=EventType(message["type"]),
        project_id=ProjectId(message["project_id"]) if message["project_id"] is not None else None,
        data=message["data"],
        ts=datetime.fromisoformat(message["ts"]),
    )


class RedisBus:
    def __init__(self, url: str, *, channel: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._channel = channel
        self._local = MemoryBus()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Subscribe before anything is published, so no event of ours is missed."""
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._listener = asyncio.create_task(self._listen(pubsub), name="redis-bus-listener")

    async def _listen(self, pubsub: redis.client.PubSub) -> None:
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    self._local.deliver([_decode(message["data"])])
                except (ValueError, KeyError) as error:
                    log.warning("ignoring a malformed event on %s: %s", self._channel, error)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def publish(self, events: Sequence[EventRecord]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self._channel, _encode(event))
            await pipe.execute()

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[EventRecord]]:
        return self._local.subscribe()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._local.close()
        await self._client.aclose()
