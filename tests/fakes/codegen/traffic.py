"""What reaches the fake: the request log, answers a test forced, and Codegen's rate limits
(sliding windows: at most N requests in any span of the window's length)."""

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from tests.fakes.codegen.errors import CodegenError, forced


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    operation: str | None  # the endpoint's name (create_run, get_run, ...); None if unknown
    method: str
    path: str
    query: str
    status: int
    body: object  # the JSON the client sent, None when there was none or it did not parse
    token: str | None  # the bearer token sent
    at: float  # time.monotonic() when it arrived


@dataclass(frozen=True, slots=True)
class Window:
    calls: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Limits:
    """Codegen's published limits; tests shrink the windows to see them in seconds."""

    standard: Window = field(default_factory=lambda: Window(60, 30.0))
    creations: Window = field(default_factory=lambda: Window(10, 60.0))
    logs: Window = field(default_factory=lambda: Window(60, 60.0))


# The budget each endpoint spends: "60 requests per 30 seconds" for the standard endpoints,
# "10 requests per minute" for creating runs, "60 requests per 60 seconds" for the logs.
BUDGETS = {
    "me": "standard",
    "organizations": "standard",
    "get_run": "standard",
    "list_runs": "standard",
    "resume": "standard",
    "ban": "standard",
    "create_run": "creations",
    "logs": "logs",
}


@dataclass(frozen=True, slots=True)
class Forced:
    status: int
    operation: str | None  # None: whichever request comes next


@dataclass(slots=True)
class Traffic:
    limits: Limits
    log: list[LoggedRequest] = field(default_factory=list)
    # Notified after every answer and every turn the agent finishes, so that tests wait for
    # the fake's state to change instead of sleeping (`FakeCodegen.until`).
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    forced: list[Forced] = field(default_factory=list)
    hits: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    async def record(self, request: LoggedRequest) -> None:
        self.log.append(request)
        await self.notify()

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def force(self, status: int, operation: str | None, n: int) -> None:
        forced(status, operation)  # refuses a status Codegen does not document, now
        self.forced.extend([Forced(status, operation)] * n)

    def forced_answer(self, operation: str) -> CodegenError | None:
        """The first armed answer for `operation` (or for any), consumed; None if none."""
        for i, armed in enumerate(self.forced):
            if armed.operation in (None, operation):
                del self.forced[i]
                return forced(armed.status, operation)
        return None

    def admit(self, operation: str, key: str) -> bool:
        """Counts one request of `operation` by `key` (an organization, or a token where no
        organization is named); False, counting nothing, when its window is full."""
        budget = BUDGETS[operation]
        window: Window = getattr(self.limits, budget)
        moment = time.monotonic()
        hits = self.hits.setdefault((budget, key), deque())
        while hits and hits[0] <= moment - window.seconds:
            hits.popleft()
        if len(hits) >= window.calls:
            return False
        hits.append(moment)
        return True

    def armed(self) -> list[str]:
        """Forced answers no request has used."""
        return [f"forced {f.status} for {f.operation or 'any request'}" for f in self.forced]
