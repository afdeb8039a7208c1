"""Codegen's published rate limits, kept on our side: every client of one organization in this
process waits its turn in the same sliding windows, so that Codegen never has to say 429."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from pyrate_limiter import (
    AbstractBucket,
    BucketFactory,
    InMemoryBucket,
    Limiter,
    MonotonicClock,
    Rate,
    RateItem,
)

from codegenapp.errors import AgentConfigInvalid, AgentUnavailable


@dataclass(frozen=True, slots=True)
class Budget:
    calls: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Codegen's published limits: 60 requests / 30 s for the standard endpoints, 10 run
    creations / minute, and 60 / 60 s for the (alpha) logs endpoint."""

    standard: Budget = field(default_factory=lambda: Budget(60, 30.0))
    creations: Budget = field(default_factory=lambda: Budget(10, 60.0))
    logs: Budget = field(default_factory=lambda: Budget(60, 60.0))

    def of(self, budget: "BudgetName") -> Budget:
        return {"standard": self.standard, "creations": self.creations, "logs": self.logs}[budget]


PUBLISHED_LIMITS: Final = RateLimits()
MAX_QUEUE_SECONDS: Final = 600.0
"""The longest a call waits for its turn under our own limiter before it gives up."""
BUFFER_MS: Final = 1000
"""Slack after a window frees up: a request admitted here is counted by Codegen when it arrives,
a little later, and the first of a window may arrive later than the last (250 ms was not
enough on a loaded machine: the 11th creation reached the server inside the window). A second
is little against windows of 30 and 60 s."""

BudgetName = Literal["standard", "creations", "logs"]


class _Buckets(BucketFactory):
    """Every budget of every Codegen client in the process: one sliding-window log each (at most
    N calls in any window, which a leaky bucket does not promise), and one pyrate-limiter
    background thread that drops expired entries from all of them."""

    def __init__(self) -> None:
        self._buckets: dict[str, AbstractBucket] = {}
        self._clock = MonotonicClock()

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, self._clock.now(), weight=weight)

    def get(self, item: RateItem) -> AbstractBucket:
        return self._buckets[item.name]

    def add(self, name: str, budget: Budget) -> None:
        bucket = InMemoryBucket([Rate(budget.calls, int(budget.seconds * 1000))])
        self._buckets[name] = bucket
        self.schedule_leak(bucket)


@dataclass(frozen=True, slots=True)
class Throttle:
    limits: RateLimits
    # One Limiter per budget: a Limiter queues its callers one by one, so a creation waiting
    # for its minute must not hold up the polls.
    limiters: Mapping[BudgetName, tuple[Limiter, str]]

    async def wait(self, budget: BudgetName) -> None:
        limiter, name = self.limiters[budget]
        if not await limiter.try_acquire_async(name, timeout=MAX_QUEUE_SECONDS):
            allowed = self.limits.of(budget)
            raise AgentUnavailable(
                f"waited {MAX_QUEUE_SECONDS:.0f} s for a turn under Codegen's rate limit of "
                f"{allowed.calls} {budget} calls per {allowed.seconds:g} s: too many calls queued"
            )


_BUCKETS = _Buckets()
_THROTTLES: dict[tuple[str, int], Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def throttle(base_url: str, org_id: int, limits: RateLimits) -> Throttle:
    """The limiter every client of (`base_url`, `org_id`) in this process shares."""
    with _THROTTLES_LOCK:
        shared = _THROTTLES.get((base_url, org_id))
        if shared is None:
            limiters: dict[BudgetName, tuple[Limiter, str]] = {}
            for budget in ("standard", "creations", "logs"):
                name = f"{base_url} {org_id} {budget}"
                _BUCKETS.add(name, limits.of(budget))
                limiters[budget] = (Limiter(_BUCKETS, buffer_ms=BUFFER_MS), name)
            shared = _THROTTLES[(base_url, org_id)] = Throttle(limits, limiters)
        elif shared.limits != limits:
            raise AgentConfigInvalid(
                "rate_limits",
                f"{shared.limits} already apply to organization {org_id} at {base_url} in this "
                f"process; a second client cannot ask for {limits}",
            )
        return shared
