"""The Agent seam: who turns a goal into a reply, a plan or a pull request.

Implementations: `scripted` (replays a recipe: the demo's and the tests' stand-in, never
presented as AI) and, later, `codegen` (the Codegen REST API) and `cli` (a command-line
agent in a sandbox). An agent job lives outside our process: `AgentJob` is all we keep, and
any process can poll or resume it.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from codegenapp.domain.project_settings import AgentSettings
from codegenapp.domain.repositories import ForgeKind


@dataclass(frozen=True, slots=True)
class AgentTask:
    """What an agent run asks of the agent."""

    run_id: int
    goal: str
    repository: str
    base_branch: str
    branch: str
    settings: AgentSettings
    forge: ForgeKind = ForgeKind.LOCAL  # where `repository` lives (the agent pushes there)


@dataclass(frozen=True, slots=True)
class AgentJob:
    """The stored handle of a job at the agent: the driver's name and its external id."""

    driver: str
    external_id: str


class AgentJobStatus(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"  # the turn is over; the agent waits for the next message
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    number: int
    url: str
    branch: str
    head_sha: str


@dataclass(frozen=True, slots=True)
class AgentState:
    """Where the job is. `turn` counts start/resume calls answered so far (1 after start), so
    a caller that just resumed can tell the old turn's answer from the new one."""

    status: AgentJobStatus
    turn: int
    reply: str = ""
    plan: str | None = None
    pull_request: PullRequestRef | None = None  # opened or updated by this turn
    progress: tuple[str, ...] = ()  # messages from index `cursor` on
    cursor: int = 0  # pass back as `since` to get only newer messages
    error: str | None = None


class Agent(Protocol):
    name: str
    is_ai: bool  # False for the scripted stand-in; the dashboard says so

    async def check_settings(self, settings: AgentSettings) -> None:
        """Raise `AgentConfigInvalid` naming the field if these settings cannot work."""
        ...

    async def start(self, task: AgentTask, *, request_id: str) -> AgentJob:
        """Start a job for `task`. Calling again with the same `request_id` returns the same
        job and starts nothing new."""
        ...

    async def poll(self, job: AgentJob, *, since: int = 0) -> AgentState:
        """The job's state, with progress messages from index `since` on."""
        ...

    async def resume(self, job: AgentJob, prompt: str, *, request_id: str) -> None:
        """Send the next message (a plan answer, a continuation, a fix request). Calling
        again with the same `request_id` sends nothing new."""
        ...

    async def cancel(self, job: AgentJob) -> None:
        """Stop the job; idempotent."""
        ...
