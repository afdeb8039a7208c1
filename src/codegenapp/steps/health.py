"""Health check: GET the deployed preview's health URL until it answers 2xx, or a deadline."""

import time

import httpx
import stamina

from codegenapp.domain.states import CheckName, CheckStatus, StepStatus
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog

DEADLINE_SEC = 60.0
REQUEST_TIMEOUT_SEC = 5.0
ANSWER_CHARS = 2000


class _NotHealthyYet(Exception):
    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class _ServiceExited(Exception):
    def __init__(self, exit_code: int) -> None:
        super().__init__(f"the service exited with code {exit_code}")
        self.exit_code = exit_code


def _describe(response: httpx.Response) -> str:
    body = response.text[:ANSWER_CHARS]
    return f"HTTP {response.status_code} {response.reason_phrase}\n{body}".rstrip()


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    deployment = ctx.settings.deployment_settings
    if not deployment.health_check_url:
        await log.note("no health_check_url configured, skipped")
        return StepResult(
            StepStatus.SKIPPED, "not configured", {CheckName.HEALTH: CheckStatus.SKIPPED}
        )
    if ctx.state.service is None:
        reason = "health_check_url is set but there is no deploy_command, so nothing answers it"
        await log.note(reason)
        return _failed(reason, None, None)
    base = await ctx.sandbox.endpoint(ctx.require_handle(), deployment.port)
    url = base + deployment.health_check_url
    await log.note(
        f"GET {deployment.health_check_url} (port {deployment.port}) until it answers 2xx"
    )
    started = time.monotonic()
    try:
        answer = await _poll(ctx, url, deadline=min(DEADLINE_SEC, ctx.remaining()))
    except _ServiceExited as exited:
        await log.note(str(exited))
        return _failed(f"{exited} before its health check passed", exited.exit_code, None)
    except _NotHealthyYet as last:
        await log.note(f"no healthy answer within the deadline; last answer: {last.answer}")
        return _failed("the health check did not pass in time", None, last.answer)
    await log.note(f"healthy after {time.monotonic() - started:.2f}s: {answer.splitlines()[0]}")
    return StepResult(
        StepStatus.PASSED, answer.splitlines()[0], {CheckName.HEALTH: CheckStatus.PASSED}
    )


def _failed(reason: str, exit_code: int | None, answer: str | None) -> StepResult:
    return StepResult(
        StepStatus.FAILED,
        reason,
        {CheckName.HEALTH: CheckStatus.FAILED},
        CheckName.HEALTH,
        exit_code,
        answer,
    )


async def _poll(ctx: StepContext, url: str, *, deadline: float) -> str:
    handle, service = ctx.require_handle(), ctx.state.service
    assert service is not None
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SEC, trust_env=False) as client:
        async for attempt in stamina.retry_context(
            on=_NotHealthyYet, attempts=None, timeout=deadline, wait_initial=0.05, wait_max=1.0
        ):
            with attempt:
                exit_code = await ctx.sandbox.service_exit_code(handle, service)
                if exit_code is not None:
                    raise _ServiceExited(exit_code)
                try:
                    response = await client.get(url)
                except httpx.HTTPError as error:
                    raise _NotHealthyYet(f"no answer: {type(error).__name__}: {error}") from error
                if not response.is_success:
                    raise _NotHealthyYet(_describe(response))
                return _describe(response)
    raise _NotHealthyYet("the deadline passed before the first request")
