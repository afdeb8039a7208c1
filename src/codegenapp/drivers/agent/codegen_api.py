"""The Codegen REST API (api.codegen.com) as we use it: typed answers, its published rate limits
kept on our side, 429 and 5xx answers retried with capped backoff, and refusals as our errors.

The published document lives in the project's fixtures (`codegen-api/openapi3.json`); what it
leaves out (upper-case statuses, the 429 body without Retry-After, resume taking the run id in
its body) is written down in the README beside it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Annotated, Final, Generic, NewType, TypeVar

import httpx
import stamina
from pydantic import BeforeValidator, JsonValue, TypeAdapter, ValidationError

from codegenapp.domain.codegen_status import CodegenPhase, codegen_phase
from codegenapp.drivers.agent.codegen_limits import (
    PUBLISHED_LIMITS,
    BudgetName,
    RateLimits,
    throttle,
)
from codegenapp.errors import (
    AgentAccessDenied,
    AgentAllowanceSpent,
    AgentNotFound,
    AgentRefused,
    AgentRequestInvalid,
    AgentUnavailable,
)

CodegenRunId = NewType("CodegenRunId", int)
T = TypeVar("T")

DEFAULT_BASE_URL: Final = "https://api.codegen.com"
TIMEOUT_SECONDS: Final = 30.0
"""One HTTP exchange. Creating a run answers once it is queued, not when it is done."""
MAX_LIMIT: Final = 100
"""The largest page Codegen serves (`limit` ≤ 100)."""


def _none_as_empty(value: object) -> object:
    return () if value is None else value


# What we read. Field names are Codegen's own, so one TypeAdapter reads each answer.


@dataclass(frozen=True, slots=True)
class CodegenUser:
    id: int
    github_user_id: str
    github_username: str
    email: str | None = None
    full_name: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class CodegenOrganization:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class CodegenPullRequest:
    """A pull request the run opened, as Codegen reports it: `url` is its page on GitHub,
    `id` is Codegen's own id for it, `created_at` its text as Codegen wrote it."""

    id: int
    created_at: str
    title: str | None = None
    url: str | None = None
    head_branch_name: str | None = None


@dataclass(frozen=True, slots=True)
class CodegenRun:
    """An agent run as Codegen reports it. `status` is Codegen's raw string; `phase` is what it
    means. A plan or a reply arrives as `result` text once the turn is over."""

    id: CodegenRunId
    organization_id: int
    status: str | None = None
    result: str | None = None
    summary: str | None = None
    web_url: str | None = None
    created_at: str | None = None
    source_type: str | None = None
    github_pull_requests: Annotated[
        tuple[CodegenPullRequest, ...], BeforeValidator(_none_as_empty)
    ] = ()
    metadata: Mapping[str, JsonValue] | None = None

    @property
    def phase(self) -> CodegenPhase:
        return codegen_phase(self.status)


@dataclass(frozen=True, slots=True)
class CodegenLogEntry:
    """One step of the agent's trace; `message_type` is e.g. ACTION, PLAN_EVALUATION, ERROR or
    FINAL_ANSWER, and which other fields are set depends on it."""

    agent_run_id: CodegenRunId
    created_at: str | None = None
    message_type: str | None = None
    thought: str | None = None
    tool_name: str | None = None
    tool_input: Mapping[str, JsonValue] | None = None
    tool_output: Mapping[str, JsonValue] | None = None
    observation: JsonValue = None


@dataclass(frozen=True, slots=True)
class CodegenLogs:
    """One page of a run's logs, oldest first, with the run's state when the page was read."""

    id: CodegenRunId
    organization_id: int
    logs: tuple[CodegenLogEntry, ...]
    status: str | None = None
    result: str | None = None
    web_url: str | None = None
    total_logs: int | None = None
    page: int | None = None
    size: int | None = None
    pages: int | None = None

    @property
    def phase(self) -> CodegenPhase:
        return codegen_phase(self.status)


@dataclass(frozen=True, slots=True)
class CodegenPage(Generic[T]):
    """One page of a list; `page` counts from 1, `size` is the limit asked for."""

    items: tuple[T, ...]
    total: int
    page: int
    size: int
    pages: int


_USER = TypeAdapter(CodegenUser)
_ORGANIZATIONS = TypeAdapter(CodegenPage[CodegenOrganization])
_RUN = TypeAdapter(CodegenRun)
_RUNS = TypeAdapter(CodegenPage[CodegenRun])
_LOGS = TypeAdapter(CodegenLogs)


# Retries


@dataclass(frozen=True, slots=True)
class Backoff:
    """How 429 and 5xx answers and lost connections are retried (stamina: exponential backoff
    with jitter, capped in attempts and in total time). Codegen sends no Retry-After, and its
    windows are 30–60 s, so the defaults outwait one."""

    attempts: int = 8
    initial: float = 1.0
    maximum: float = 30.0
    jitter: float = 1.0
    timeout: float = 180.0


DEFAULT_BACKOFF: Final = Backoff()


class _Transient(Exception):
    """An answer worth asking again for: 429, 5xx, or no answer at all."""

    def __init__(self, reason: str, status: int | None) -> None:
        super().__init__(reason)
        self.status = status


# The client


class CodegenApi:
    """One organization's agent runs at Codegen. Every call has a timeout, waits for its turn
    under the published rate limits (shared by every client of the same organization and URL in
    this process) rather than failing, and retries 429, 5xx and lost connections with capped
    backoff. Refusals raise `AgentRefused` subclasses, whose message is the human reason; a
    service that stays unreachable raises `AgentUnavailable`.

    Use as `async with CodegenApi(url, key, org_id) as api:` or call `aclose()`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        org_id: int,
        *,
        timeout: float = TIMEOUT_SECONDS,
        limits: RateLimits = PUBLISHED_LIMITS,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.org_id = org_id
        self._backoff = backoff
        self._throttle = throttle(self.base_url, org_id, limits)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": "CodegenApp",
            },
            timeout=httpx.Timeout(timeout),
        )

    async def __aenter__(self) -> "CodegenApi":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def _org(self) -> str:
        return f"/v1/organizations/{self.org_id}"

    async def me(self) -> CodegenUser:
        """The user the API key belongs to."""
        body = await self._call("reading the API key's user", "GET", "/v1/users/me")
        return _read(_USER, body, "the API key's user")

    async def organizations(
        self, *, skip: int = 0, limit: int = MAX_LIMIT
    ) -> CodegenPage[CodegenOrganization]:
        """The organizations the API key's user belongs to, one page."""
        body = await self._call(
            "listing organizations",
            "GET",
            "/v1/organizations",
            params={"skip": skip, "limit": limit},
        )
        return _read(_ORGANIZATIONS, body, "the organizations")

    async def create_run(
        self,
        prompt: str,
        *,
        repo_id: int | None = None,
        model: str | None = None,
        metadata: Mapping[str, JsonValue] | None = None,
    ) -> CodegenRun:
        """Starts an agent run on `prompt` (in repository `repo_id`, Codegen's id, or the
        organization's default). Not idempotent: an answer lost to a 5xx or a dropped connection
        is retried, which may start a second run, so put a request id of your own in `metadata`
        (stored with the run) to find it among `runs()`."""
        sent: dict[str, JsonValue] = {"prompt": prompt}
        if repo_id is not None:
            sent["repo_id"] = repo_id
        if model is not None:
            sent["model"] = model
        if metadata is not None:
            sent["metadata"] = dict(metadata)
        body = await self._call(
            "starting a Codegen agent run",
            "POST",
            f"{self._org}/agent/run",
            budget="creations",
            json=sent,
        )
        return _read(_RUN, body, "the new agent run")

    async def get_run(self, run_id: CodegenRunId) -> CodegenRun:
        """The run's status, result and pull requests now. Raises `AgentNotFound` for a run
        that is not this organization's."""
        body = await self._call(
            f"reading Codegen agent run {run_id}", "GET", f"{self._org}/agent/run/{run_id}"
        )
        return _read(_RUN, body, f"agent run {run_id}")

    async def runs(self, *, skip: int = 0, limit: int = MAX_LIMIT) -> CodegenPage[CodegenRun]:
        """The organization's runs, newest first, one page."""
        body = await self._call(
            "listing Codegen agent runs",
            "GET",
            f"{self._org}/agent/runs",
            params={"skip": skip, "limit": limit},
        )
        return _read(_RUNS, body, "the agent runs")

    async def resume(self, run_id: CodegenRunId, prompt: str) -> CodegenRun:
        """Sends the run its next message (a plan confirmed, a fix asked for) and returns the
        run as it restarts. At least once: a retried answer may deliver the message twice."""
        body = await self._call(
            f"resuming Codegen agent run {run_id}",
            "POST",
            f"{self._org}/agent/run/resume",
            json={"agent_run_id": run_id, "prompt": prompt},
        )
        return _read(_RUN, body, f"agent run {run_id}")

    async def ban(self, run_id: CodegenRunId) -> None:
        """Stops every agent on the run's pull request and keeps Codegen's own check-suite
        auto-fixer off it, for when we own the fix loop. Idempotent."""
        await self._call(
            f"banning Codegen agents from run {run_id}'s pull request",
            "POST",
            f"{self._org}/agent/run/ban",
            json={"agent_run_id": run_id},
        )

    async def logs(
        self, run_id: CodegenRunId, *, skip: int = 0, limit: int = MAX_LIMIT
    ) -> CodegenLogs:
        """One page of the run's trace, oldest first (an alpha endpoint of Codegen's)."""
        body = await self._call(
            f"reading the logs of Codegen agent run {run_id}",
            "GET",
            f"/v1/alpha/organizations/{self.org_id}/agent/run/{run_id}/logs",
            budget="logs",
            params={"skip": skip, "limit": limit},
        )
        return _read(_LOGS, body, f"the logs of agent run {run_id}")

    async def _call(
        self,
        what: str,
        method: str,
        path: str,
        *,
        budget: BudgetName = "standard",
        json: Mapping[str, JsonValue] | None = None,
        params: Mapping[str, int] | None = None,
    ) -> object:
        """The decoded JSON answer; `what` says in words what we were doing, for the errors."""
        backoff = self._backoff
        answer: object = None
        try:
            async for attempt in stamina.retry_context(
                on=_Transient,
                attempts=backoff.attempts,
                timeout=backoff.timeout,
                wait_initial=backoff.initial,
                wait_max=backoff.maximum,
                wait_jitter=backoff.jitter,
            ):
                with attempt:
                    await self._throttle.wait(budget)
                    try:
                        response = await self._http.request(method, path, json=json, params=params)
                    except httpx.TransportError as error:
                        reason = f"no answer ({type(error).__name__}: {error})"
                        raise _Transient(reason, None) from error
                    answer = self._answer(what, response)
        except _Transient as last:
            raise AgentUnavailable(
                f"{what}: Codegen at {self.base_url} kept failing, retried with backoff (at "
                f"most {backoff.attempts} attempts in {backoff.timeout:g} s); the last: {last}",
                status=last.status,
            ) from last
        return answer

    def _answer(self, what: str, response: httpx.Response) -> object:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return response.json()
            except ValueError:
                raise AgentUnavailable(
                    f"{what}: Codegen answered {status} with a body that is not JSON: "
                    f"{response.text[:200]!r}",
                    status=status,
                ) from None
        words = _their_words(response)
        if status == 429 or status >= 500:
            raise _Transient(f"{status}: {words}", status)
        refusals: dict[int, tuple[type[AgentRefused], str]] = {
            401: (AgentAccessDenied, "Codegen did not accept the API key"),
            403: (AgentAccessDenied, f"the API key has no access to organization {self.org_id}"),
            402: (AgentAllowanceSpent, "the Codegen plan's allowance of agent runs is spent"),
            404: (AgentNotFound, "not found at Codegen"),
            422: (AgentRequestInvalid, "Codegen rejected what we sent"),
        }
        kind, meaning = refusals.get(status, (AgentRefused, f"Codegen refused ({status})"))
        raise kind(f"{what}: {meaning}: {words} (HTTP {status})", status=status)


def _their_words(response: httpx.Response) -> str:
    """What Codegen said, in one line: its `message`, FastAPI's `detail` (each field at fault
    for a 422), or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return str(body["message"])
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):
            return "; ".join(_field_problem(problem) for problem in detail[:5])
    return response.text[:200].strip() or response.reason_phrase


def _field_problem(problem: object) -> str:
    if not isinstance(problem, dict):
        return str(problem)
    where = ".".join(str(part) for part in problem.get("loc", ()))
    return f"{where}: {problem.get('msg', 'is invalid')}"


def _read(adapter: TypeAdapter[T], body: object, what: str) -> T:
    try:
        return adapter.validate_python(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise AgentUnavailable(
            f"Codegen answered with {what} in a shape we cannot read: {where}: {first['msg']}"
        ) from None
