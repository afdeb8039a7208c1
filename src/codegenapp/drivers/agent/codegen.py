"""The Codegen agent: goals become Codegen agent runs, plan answers and fix requests become
`resume` messages, and the pull requests Codegen opens on GitHub are validated through the
project's GitHub forge.

A Codegen run has no turn counter and keeps showing its last answer until it picks a new
message up, so a turn is marked by the length of the run's log when the message was sent: the
turn is over once the run rests again and something the agent did was logged after that mark.
"""

import re

from codegenapp.domain.agent_settings import AgentSettings, CodegenAgentSettings
from codegenapp.domain.codegen_status import CodegenPhase
from codegenapp.domain.plans import reads_as_plan
from codegenapp.drivers.agent import (
    FIRST_TURN,
    AgentJob,
    AgentJobStatus,
    AgentState,
    AgentTask,
    PullRequestRef,
    TurnMarker,
)
from codegenapp.drivers.agent.codegen_api import (
    MAX_LIMIT,
    CodegenApi,
    CodegenLogEntry,
    CodegenPullRequest,
    CodegenRun,
    CodegenRunId,
)
from codegenapp.errors import AgentConfigInvalid, AgentError
from codegenapp.settings import Settings

NOT_CONFIGURED = (
    "this server has no Codegen account: set CODEGEN_API_KEY and CODEGEN_ORG_ID (and "
    "CODEGEN_API_URL for another host) and restart"
)
# Log entries that are our own words, not the agent's work.
_OURS = frozenset({"USER_MESSAGE"})
_PULL_URL = re.compile(r"^https?://[^/]+/([^/]+/[^/]+)/pull/([0-9]+)/?$")
_PROGRESS_CHARS = 300
_PHASES = {
    CodegenPhase.RUNNING: AgentJobStatus.RUNNING,
    CodegenPhase.SUCCEEDED: AgentJobStatus.WAITING,
    CodegenPhase.FAILED: AgentJobStatus.FAILED,
    CodegenPhase.STOPPED: AgentJobStatus.CANCELLED,
}


def codegen_api(settings: Settings) -> CodegenApi | None:
    """The server's Codegen client, or None while it has no Codegen account."""
    if settings.codegen_api_key is None or settings.codegen_org_id is None:
        return None
    return CodegenApi(
        settings.codegen_api_url,
        settings.codegen_api_key.get_secret_value(),
        settings.codegen_org_id,
    )


class CodegenAgent:
    """`Agent` over the Codegen API of one organization. `api` is None when the server has no
    Codegen account: every call then says how to set one up."""

    name = "codegen"
    is_ai = True

    def __init__(self, api: CodegenApi | None) -> None:
        self._api = api

    @property
    def api(self) -> CodegenApi:
        if self._api is None:
            raise AgentConfigInvalid("agent.provider", NOT_CONFIGURED)
        return self._api

    async def check_settings(self, settings: AgentSettings) -> None:
        _codegen(settings)
        if self._api is None:
            raise AgentConfigInvalid("agent.provider", NOT_CONFIGURED)

    async def start(self, task: AgentTask, *, request_id: str) -> AgentJob:
        settings = _codegen(task.settings)
        run = await self.api.create_run(
            first_prompt(task),
            repo_id=settings.repo_id,
            model=settings.model,
            metadata={"codegenapp_run_id": task.run_id, "codegenapp_request_id": request_id},
        )
        return AgentJob(driver=self.name, external_id=str(run.id))

    async def resume(self, job: AgentJob, prompt: str, *, request_id: str) -> TurnMarker:
        run_id = _run_id(job)
        before = await self.api.logs(run_id, skip=0, limit=1)
        await self.api.resume(run_id, prompt)
        return TurnMarker(str(before.total_logs or 0))

    async def poll(self, job: AgentJob, *, turn: TurnMarker, since: int = 0) -> AgentState:
        run_id = _run_id(job)
        mark = int(turn or 0)
        run = await self.api.get_run(run_id)
        start = min(since, mark)
        entries = await self._logs_from(run_id, start)
        after_mark = entries[max(0, mark - start) :]
        progress = tuple(_progress_line(entry) for entry in entries[max(0, since - start) :])
        cursor = start + len(entries)
        status = _PHASES[run.phase]
        worked = any(entry.message_type not in _OURS for entry in after_mark)
        if status is not AgentJobStatus.CANCELLED and (turn != FIRST_TURN and not worked):
            status = AgentJobStatus.RUNNING  # still the previous turn's answer
        if status is AgentJobStatus.RUNNING:
            return AgentState(AgentJobStatus.RUNNING, progress=progress, cursor=cursor)
        return _answer(run, status, progress, cursor)

    async def cancel(self, job: AgentJob) -> None:
        """Codegen documents no cancel: `ban` stops every agent on the run's pull request, and
        keeps Codegen's own check-suite auto-fixer off it (this system owns the fix loop)."""
        await self.api.ban(_run_id(job))

    async def _logs_from(self, run_id: CodegenRunId, skip: int) -> tuple[CodegenLogEntry, ...]:
        entries: list[CodegenLogEntry] = []
        while True:
            page = await self.api.logs(run_id, skip=skip + len(entries), limit=MAX_LIMIT)
            entries += page.logs
            if len(page.logs) < MAX_LIMIT:
                return tuple(entries)


def _answer(
    run: CodegenRun,
    status: AgentJobStatus,
    progress: tuple[str, ...],
    cursor: int,
) -> AgentState:
    text = (run.result or run.summary or "").strip()
    if status is not AgentJobStatus.WAITING:
        error = text or f"Codegen ended the run {run.status}"
        return AgentState(status, progress=progress, cursor=cursor, error=error)
    if run.github_pull_requests:
        ref = _pull_request(run.github_pull_requests[-1])
        return AgentState(status, reply=text, pull_request=ref, progress=progress, cursor=cursor)
    if reads_as_plan(text):
        return AgentState(status, plan=text, progress=progress, cursor=cursor)
    return AgentState(status, reply=text, progress=progress, cursor=cursor)


def first_prompt(task: AgentTask) -> str:
    """The goal, with what Codegen needs to know about where to work."""
    return (
        f"{task.goal.strip()}\n\n---\n"
        f"Repository: {task.repository} (GitHub). Work on a new branch from "
        f"`{task.base_branch}` and open one pull request against `{task.base_branch}`. "
        "If the goal is a question, answer it without opening a pull request. This pull "
        "request is validated by CodegenApp, which sends you the failures to fix."
    )


def _codegen(settings: AgentSettings) -> CodegenAgentSettings:
    if not isinstance(settings, CodegenAgentSettings):
        raise AgentConfigInvalid("agent.provider", "the Codegen agent needs 'codegen'")
    return settings


def _run_id(job: AgentJob) -> CodegenRunId:
    if job.driver != CodegenAgent.name or not job.external_id.isdigit():
        raise AgentError(f"{job.driver}/{job.external_id} is not a Codegen agent run")
    return CodegenRunId(int(job.external_id))


def _pull_request(pr: CodegenPullRequest) -> PullRequestRef:
    """The pull request Codegen names: its repository and number read from its URL."""
    found = _PULL_URL.match(pr.url or "")
    if found is None:
        raise AgentError(f"Codegen named a pull request at {pr.url!r}, not a pull request URL")
    return PullRequestRef(
        int(found.group(2)), pr.url or "", pr.head_branch_name or "", repository=found.group(1)
    )


def _progress_line(entry: CodegenLogEntry) -> str:
    """One log entry as one line of the run's activity."""
    kind = (entry.message_type or "LOG").lower()
    if entry.tool_name:
        said = f"{entry.tool_name} {entry.tool_input or ''}".strip()
    else:
        said = entry.thought or str(entry.observation or "")
    line = " ".join(said.split())
    if len(line) > _PROGRESS_CHARS:
        line = line[: _PROGRESS_CHARS - 1] + "…"
    return f"[codegen] {kind}: {line}"
