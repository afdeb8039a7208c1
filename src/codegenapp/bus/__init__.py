"""Live fan-out of events to every subscriber (WebSocket clients, the demo's printer).

Events reach the bus only after their transaction committed. Delivery is at-most-once; the
event table is the source of truth, and a client that missed something asks for `since=<id>`.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from codegenapp.domain.events import EventRecord


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[EventRecord]: ...


class Bus(Protocol):
    async def publish(self, events: Sequence[EventRecord]) -> None:
        """Deliver to every current subscriber, in this process and (Redis) in others."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[EventRecord]]:
        """Events published from now on, until the context exits."""
        ...

    async def close(self) -> None: ...
