"""What reaches the REST API: the request log, injected faults, and per-caller rate limits."""

import asyncio
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Literal

from tests.fakes.github.errors import GitHubError

RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
WINDOW = 3600


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str  # below the API prefix, e.g. /repos/acme/app/pulls
    query: str
    status: int
    if_none_match: str | None
    caller: str | None  # e.g. user:alice, installation:7, app:1 (None when unauthenticated)


@dataclass(slots=True)
class Bucket:
    limit: int
    used: int = 0
    reset: float = field(default_factory=lambda: time.time() + WINDOW)

    def roll(self) -> None:
        if time.time() >= self.reset:
            self.used, self.reset = 0, time.time() + WINDOW

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset)),
            "X-RateLimit-Used": str(self.used),
            "X-RateLimit-Resource": "core",
        }


@dataclass(slots=True)
class Traffic:
    log: list[LoggedRequest] = field(default_factory=list)
    # Set on every answered request, so that a test waits for the fake's state to change
    # instead of sleeping (`FakeGitHub.until`).
    answered: asyncio.Condition = field(default_factory=asyncio.Condition)
    failures: list[int] = field(default_factory=list)
    outage: int | None = None  # every request gets this status until the outage ends
    secondary: list[int] = field(default_factory=list)
    primary_reset_in: list[float] = field(default_factory=list)
    buckets: dict[str, Bucket] = field(default_factory=dict)

    async def record(self, request: LoggedRequest) -> None:
        self.log.append(request)
        async with self.answered:
            self.answered.notify_all()

    def bucket(self, key: str) -> Bucket:
        # Unauthenticated callers get 60 an hour, as on github.com.
        bucket = self.buckets.setdefault(key, Bucket(60 if key == "anonymous" else 5000))
        bucket.roll()
        return bucket

    def fail_next(self, n: int, status: int) -> None:
        self.failures.extend([status] * n)

    def rate_limit_next(
        self, kind: Literal["primary", "secondary"], status: int, reset_in: float
    ) -> None:
        if kind == "primary":
            self.primary_reset_in.append(reset_in)
        else:
            self.secondary.append(status)

    def injected_fault(self) -> GitHubError | None:
        """The next armed server error, consumed (or the outage's); None when none is armed."""
        if self.outage is not None:
            return GitHubError(self.outage, "Server Error")
        if not self.failures:
            return None
        status = self.failures.pop(0)
        return GitHubError(status, "Server Error")

    def rate_limited(self, bucket: Bucket, who: str) -> GitHubError | None:
        """A 403/429 when the caller's limit is spent (or a test armed one); None otherwise."""
        if self.primary_reset_in:
            bucket.used, bucket.reset = bucket.limit, time.time() + self.primary_reset_in.pop(0)
        if bucket.used >= bucket.limit:
            return GitHubError(
                403,
                f"API rate limit exceeded for {who}.",
                documentation_url=f"{RATE_DOCS}#about-primary-rate-limits",
            )
        if self.secondary:
            return GitHubError(
                self.secondary.pop(0),
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                f"request ID {uuid.uuid4().hex[:8].upper()}:{uuid.uuid4().hex[:6].upper()}.",
                documentation_url=f"{RATE_DOCS}#about-secondary-rate-limits",
                headers={"Retry-After": "1"},
            )
        return None

    def armed(self) -> list[str]:
        """Faults a test armed that no request has used yet."""
        left = [f"fail_next status {status}" for status in self.failures]
        left += [f"secondary rate limit {status}" for status in self.secondary]
        left += ["primary rate limit" for _ in self.primary_reset_in]
        return left
