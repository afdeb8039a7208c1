"""GitHub REST clients as the github forge needs them: a timeout on every call, GitHub's rate
limits waited out within a budget, server errors retried, and GitHub's errors read as ours."""

import json
from datetime import timedelta
from typing import Final, Literal, TypeVar

import httpx
from githubkit import GitHub
from githubkit.auth.base import BaseAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.retry import RetryOption

from codegenapp.errors import CodegenAppError, ForgeError

TIMEOUT_SECONDS = 30.0
"""One REST call: GitHub answers in well under a second; a merge of a large change takes a few."""
WAIT_BUDGET_SECONDS = 60.0
"""At most this long waiting, per operation, for rate limits and server errors to pass; beyond
it the caller gets a `ForgeError` and its flow decides (a durable step retries later)."""
SERVER_ERROR_TRIES = 3
SERVER_ERROR_BACKOFF_SECONDS = 0.5
USER_AGENT = "CodegenApp"
API_VERSION: Final[Literal["2022-11-28"]] = "2022-11-28"
"""The REST API version we speak: the one GitHub Enterprise Server knows too (2026-03-10 also
drops `merge_commit_sha` from pull requests, which `merge` needs)."""
S = TypeVar("S", bound=BaseAuthStrategy)


class RetryPolicy:
    """githubkit's retry decision for one operation: wait as GitHub says for a rate limit
    (`Retry-After`, or `X-RateLimit-Reset` for the primary limit), back off on a 5xx, and stop
    once the waits would pass `budget` seconds in all. Stateful, so one per operation."""

    def __init__(self, budget: float = WAIT_BUDGET_SECONDS) -> None:
        self.budget = budget
        self.waited = 0.0
        self._server_errors = 0

    def __call__(self, error: GitHubException, retry_count: int) -> RetryOption:
        wait = self._wait_for(error)
        if wait is None or self.waited + wait > self.budget:
            return RetryOption(False)
        self.waited += wait
        return RetryOption(True, timedelta(seconds=wait))

    def _wait_for(self, error: GitHubException) -> float | None:
        if isinstance(error, RateLimitExceeded):
            # The reset is a whole second; a moment more keeps clocks that differ a little from
            # retrying just before GitHub's limit rolls over.
            margin = 0.5 if isinstance(error, PrimaryRateLimitExceeded) else 0.0
            return error.retry_after.total_seconds() + margin
        if isinstance(error, RequestFailed) and error.response.status_code >= 500:
            self._server_errors += 1
            if self._server_errors >= SERVER_ERROR_TRIES:
                return None
            return SERVER_ERROR_BACKOFF_SECONDS * 2.0 ** (self._server_errors - 1)
        return None


class GitHubRest:
    """Makes the clients: one per operation, since each carries its own `RetryPolicy`."""

    def __init__(self, api_url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.api_url = api_url
        self.timeout = timeout
        # githubkit caches the App's JWT by App id in a process-wide store by default: two
        # forges for the same App id (another host, a rotated key) would share a stale one.
        self._cache = MemCacheStrategy()
        # githubkit makes an httpx client per request, and httpx a TLS context per client
        # (loading the CA bundle: ~24 ms of the event loop each time, a dozen times per pull
        # request). The same context httpx would make, made once.
        self._tls = httpx.create_ssl_context()

    def client(self, auth: S) -> GitHub[S]:
        return GitHub(
            auth,
            base_url=self.api_url,
            user_agent=USER_AGENT,
            timeout=httpx.Timeout(self.timeout),
            # Conditional requests are made on purpose where they pay (the open pull request
            # list); a cache of every answer would only hold memory.
            http_cache=False,
            auto_retry=RetryPolicy(),
            cache_strategy=self._cache,
            ssl_verify=self._tls,
        )


def status_of(error: Exception) -> int | None:
    """The HTTP status GitHub answered with, if the error is an answer."""
    return error.response.status_code if isinstance(error, RequestFailed) else None


def message_of(error: Exception) -> str:
    """GitHub's own words for a refusal: its `message`, and the first detail of a 422."""
    if not isinstance(error, RequestFailed):
        return ""
    try:
        body = json.loads(error.response.raw_response.content)
    except ValueError:
        return error.response.raw_response.reason_phrase
    if not isinstance(body, dict):
        return ""
    message = str(body.get("message", ""))
    details = body.get("errors")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        first = details[0]
        detail = first.get("message") or " ".join(
            f"{k}={first[k]}" for k in ("field", "code") if k in first
        )
        message = f"{message} ({detail})" if detail else message
    return message


def forge_error(error: Exception, doing: str, credentials: str = "") -> CodegenAppError:
    """`error` from a call made to `doing` (a verb phrase), as the `ForgeError` to raise."""
    if isinstance(error, CodegenAppError):
        return error
    why = _why(error, credentials)
    return ForgeError(f"could not {doing}: {why}")


def _why(error: Exception, credentials: str) -> str:
    status, message = status_of(error), message_of(error)
    if isinstance(error, RateLimitExceeded):
        kind = "primary" if isinstance(error, PrimaryRateLimitExceeded) else "secondary"
        left = round(error.retry_after.total_seconds())
        return (
            f"GitHub's {kind} rate limit is spent ({credentials or 'these credentials'}): "
            f"calls are allowed again in {left} s, more than the {WAIT_BUDGET_SECONDS:g} s we "
            f"wait ({message})"
        )
    if status == 401:
        return f"GitHub refused the credentials ({credentials or 'as given'}): {message}"
    if status == 403:
        return f"GitHub does not allow it {credentials}: {message}".replace("  ", " ")
    if status == 404:
        return f"not found, or not visible {credentials}".strip()
    if status is not None:
        return f"GitHub answered {status}: {message}"
    if isinstance(error, RequestTimeout):
        return "GitHub did not answer in time"
    if isinstance(error, RequestError):
        return f"GitHub cannot be reached ({type(error.exc).__name__}: {error.exc})"
    return f"GitHub's answer was not understood ({type(error).__name__})"
