"""The Agent seam: who turns a goal into a reply, a plan or a pull request.

Implementations: `scripted` (replays a recipe: the demo's and the tests' stand-in, never
presented as AI), `codegen` (the Codegen REST API) and `cli` (a command-line agent in the
project's sandbox). An agent job lives outside our process: `AgentJob` is all we keep, and any
process can poll or resume it.

A job answers in turns: the goal opens the first, each `resume` the next. `resume` returns a
`TurnMarker` that the next `poll` is given, because right after a resume an agent may still
show the previous turn's answer (Codegen reads COMPLETE until it picks the message up). Real
agents keep no idempotency key, so `start` and `resume` are at least once: a step repeated
after a crash may send its message twice, and the flow is written to survive that.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType, Protocol

from codegenapp.domain.agent_settings import AgentSettings
from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.domain.project_settings import DeploymentSettings
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
    deployment: DeploymentSettings = field(default_factory=DeploymentSettings)
    """The project's deployment settings: an agent that runs commands works in the sandbox
    they describe (kind, image, resources)."""
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The project secrets the agent's settings name, opened (name → value): the flow reads
    them, since drivers never touch the database. Only a command-line agent names any; it
    gets them as environment variables, and must never write them down unsealed."""


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


TurnMarker = NewType("TurnMarker", str)
"""Opaque to the flow: where the job was when a message was sent."""
FIRST_TURN = TurnMarker("")
"""The marker of the turn `start` opens."""


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    """The pull request the agent says it opened or updated. Only a pointer: its head is read
    from the forge, so that an agent's words never choose the commit that is validated."""

    number: int
    url: str
    branch: str
    repository: str | None = None  # OWNER/NAME when the agent said; must be the project's


@dataclass(frozen=True, slots=True)
class AgentState:
    """Where the job is, seen from the turn the caller waits for: RUNNING until that turn is
    over, whatever an earlier turn's answer still says."""

    status: AgentJobStatus
    reply: str = ""
    plan: str | None = None
    pull_request: PullRequestRef | None = None  # opened or updated by this turn
    progress: tuple[str, ...] = ()  # messages from index `cursor` on
    cursor: int = 0  # pass back as `since` to get only newer messages
    error: str | None = None
    usage: AgentUsage | None = None  # this turn's, when the agent reported it


class Agent(Protocol):
    name: str
    is_ai: bool  # False for the scripted stand-in; the dashboard says so

    async def check_settings(self, settings: AgentSettings) -> None:
        """Raise `AgentConfigInvalid` naming the field if these settings cannot work."""
        ...

    async def start(self, task: AgentTask, *, request_id: str) -> AgentJob:
        """Start a job for `task`, its first turn marked `FIRST_TURN`. At least once: an
        agent that can find a job by `request_id` returns it again, others may start another."""
        ...

    async def poll(self, job: AgentJob, *, turn: TurnMarker, since: int = 0) -> AgentState:
        """The state of the turn marked `turn`, with progress messages from index `since`."""
        ...

    async def resume(self, job: AgentJob, prompt: str, *, request_id: str) -> TurnMarker:
        """Send the next message (a plan answer, a continuation, a fix request); the marker
        of the turn it opens. At least once, like `start`."""
        ...

    async def cancel(self, job: AgentJob) -> None:
        """Stop the job; idempotent."""
        ...
