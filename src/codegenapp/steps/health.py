"""Health check: GET the deployed preview's health URL until it answers 2xx, within the
project's `health_check_timeout_seconds`.

It polls every 10 ms for the first two seconds (most apps are up in well under one: waiting
longer than the app would be our overhead, not the app's), then backs off to one second. A
service that exits fails the check at once. A failure says what was seen, in words: "nothing
is listening on port 4000", "GET /health answered 500 Internal Server Error", with the URL.
"""

import asyncio
import functools
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from codegenapp.domain.states import CheckName, CheckStatus, StepStatus
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog

FAST_INTERVAL_S = 0.01
FAST_PHASE_S = 2.0
SLOWEST_INTERVAL_S = 1.0
BACKOFF = 1.5
REQUEST_TIMEOUT_S = 5.0
ANSWER_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Observation:
    """What one poll saw: `answer` is the response (status line and body) if there was one."""

    healthy: bool
    words: str  # "answered 404 Not Found", "nothing is listening on port 4000", ...
    answer: str | None = None
    timed_out: bool = False


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every health check. The preview answers plain HTTP, but httpx
    builds a context (loading the CA bundle) for each client it makes unless given one:
    measured at 24 ms of the event loop per validation."""
    return ssl.create_default_context()


def poll_delays() -> Iterator[float]:
    """The waits between polls: a fixed short interval, then a capped backoff."""
    waited, delay = 0.0, FAST_INTERVAL_S
    while True:
        yield delay
        waited += delay
        if waited >= FAST_PHASE_S:
            delay = min(delay * BACKOFF, SLOWEST_INTERVAL_S)


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    deployment = ctx.settings.deployment_settings
    path = deployment.health_check_url
    if not path:
        await log.note("no health_check_url configured, skipped")
        return StepResult(
            StepStatus.SKIPPED, "not configured", {CheckName.HEALTH: CheckStatus.SKIPPED}
        )
    if ctx.state.service is None:
        reason = "health_check_url is set but there is no deploy_command, so nothing answers it"
        await log.note(reason)
        return _failed(reason, None, None)
    base = await ctx.sandbox.endpoint(ctx.require_handle(), deployment.port)
    url = base + path
    timeout = min(float(deployment.health_check_timeout_seconds), ctx.remaining())
    await log.note(
        f"GET {path} on port {deployment.port} ({url} from here) until it answers 2xx, "
        f"for at most {timeout:g} s"
    )
    started = time.monotonic()
    outcome = await _poll(ctx, url, port=deployment.port, timeout=timeout)
    elapsed = time.monotonic() - started
    if isinstance(outcome, int):
        reason = f"the service exited with code {outcome} before GET {path} answered 2xx"
        await log.note(reason)
        return _failed(reason, outcome, None)
    if not outcome.healthy:
        reason = f"GET {path}: {outcome.words}, for {elapsed:.1f} s (polled {url})"
        await log.note(reason)
        return _failed(reason, None, outcome.answer)
    await log.note(f"healthy after {elapsed:.2f} s: {outcome.words}")
    return StepResult(StepStatus.PASSED, outcome.words, {CheckName.HEALTH: CheckStatus.PASSED})


def _failed(reason: str, exit_code: int | None, answer: str | None) -> StepResult:
    return StepResult(
        StepStatus.FAILED,
        reason,
        {CheckName.HEALTH: CheckStatus.FAILED},
        CheckName.HEALTH,
        exit_code,
        answer,
    )


async def _poll(ctx: StepContext, url: str, *, port: int, timeout: float) -> Observation | int:
    """Poll until healthy, until the deadline, or until the service exits (its exit code)."""
    handle, service = ctx.require_handle(), ctx.state.service
    assert service is not None
    deadline = time.monotonic() + timeout
    last = Observation(False, f"nothing is listening on port {port}")
    # A poll on a schedule rather than a retry library: the schedule is the point here.
    async with httpx.AsyncClient(
        timeout=REQUEST_TIMEOUT_S, trust_env=False, verify=_tls()
    ) as client:
        for delay in poll_delays():
            exit_code = await ctx.sandbox.service_exit_code(handle, service)
            if exit_code is not None:
                return exit_code
            left = deadline - time.monotonic()
            if left <= 0:
                return last
            seen = await _observe(client, url, port=port, timeout=min(REQUEST_TIMEOUT_S, left))
            if seen.healthy:
                return seen
            # A request cut short by the deadline says nothing new about the app.
            if not (seen.timed_out and left < REQUEST_TIMEOUT_S):
                last = seen
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
    return last  # pragma: no cover - poll_delays never ends


async def _observe(
    client: httpx.AsyncClient, url: str, *, port: int, timeout: float
) -> Observation:
    try:
        response = await client.get(url, timeout=timeout)
    except (httpx.ConnectError, httpx.RemoteProtocolError):
        # Through the sandbox's relay, a port nobody listens on looks like a connection that
        # closes before answering.
        return Observation(False, f"nothing is listening on port {port}")
    except httpx.TimeoutException:
        words = f"no answer within {timeout:.1f} s (the app accepted but hung)"
        return Observation(False, words, timed_out=True)
    except httpx.HTTPError as error:
        return Observation(False, f"no answer: {type(error).__name__}: {error}")
    status = f"{response.status_code} {response.reason_phrase}".strip()
    answer = f"HTTP {status}\n{response.text[:ANSWER_CHARS]}".rstrip()
    if response.is_success:
        return Observation(True, f"HTTP {status}", answer)
    return Observation(False, f"answered {status}", answer)
