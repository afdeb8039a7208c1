"""A command-line agent's jobs on disk: one JSON state file per job, so that any process can
poll it, and the identity of the process that runs a turn, so that a poll can tell a turn that
is still running from one whose server died.

A turn runs in a background task of the process that accepted its message (its *owner*). The
owner is recorded as its pid, the start time /proc gives that pid (pids are reused) and the
machine's boot id (start times restart at boot). A turn still RUNNING whose owner is gone will
never end: the next poll marks it FAILED. Within one process the owner is alive only while
this process still holds the turn's task (a back end restarted inside one process, as tests
do, leaves none behind). State files are local to one machine, like the scripted agent's.

Project secrets are stored sealed (the server's Fernet key, as in the database), never in
clear: the task is kept without them.
"""

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.drivers import state_files
from codegenapp.drivers.agent import AgentJobStatus, AgentTask, PullRequestRef
from codegenapp.drivers.sandbox import SandboxHandle
from codegenapp.drivers.sandbox.processes import ProcessRecord, is_alive, record_of
from codegenapp.errors import AgentError

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def _boot_id() -> str:
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:  # not Linux, or no /proc: pid and start time must do
        return ""


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that runs a turn."""

    pid: int
    started: int  # clock ticks after boot, from /proc/<pid>/stat
    boot_id: str

    @classmethod
    def me(cls) -> "Owner":
        record = record_of(os.getpid())
        return cls(pid=record.pid, started=record.started, boot_id=_boot_id())

    def runs(self) -> bool:
        """True while that process exists (this machine, this boot, the same process)."""
        return self.boot_id == _boot_id() and is_alive(ProcessRecord(self.pid, self.started))


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One message and the agent's answer to it."""

    request_id: str
    prompt: str  # what the command got in $CODEGENAPP_PROMPT
    plan_only: bool
    status: AgentJobStatus = AgentJobStatus.RUNNING
    owner: Owner | None = None  # set while it runs
    sandbox: SandboxHandle | None = None  # where it runs: a cancel from anywhere destroys it
    reply: str = ""
    plan: str | None = None
    pull_request: PullRequestRef | None = None
    error: str | None = None
    usage: AgentUsage | None = None  # what the command reported in its usage file


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job's state file. `task` has no secrets: `sealed_secrets` holds them, sealed."""

    external_id: str
    task: AgentTask
    sealed_secrets: dict[str, str] = field(default_factory=dict)
    turns: tuple[TurnRecord, ...] = ()
    progress: tuple[str, ...] = ()

    @property
    def last(self) -> TurnRecord:
        return self.turns[-1]

    def with_turn(self, index: int, turn: TurnRecord) -> "JobRecord":
        turns = (*self.turns[:index], turn, *self.turns[index + 1 :])
        return dataclasses.replace(self, turns=turns)

    def plan(self) -> str | None:
        """The latest plan the agent proposed, if any: later prompts repeat it."""
        return next((turn.plan for turn in reversed(self.turns) if turn.plan), None)


_RECORD = TypeAdapter(JobRecord)


class JobStore:
    """The state files of one agent's jobs, in `directory`; every change under a lock shared
    by all processes, so a poll, a cancel and the running turn never overwrite each other."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.asynccontextmanager
    async def locked(self, external_id: str) -> AsyncIterator[None]:
        async with state_files.locked(self.directory / f"{external_id}.lock", error=AgentError):
            yield

    async def load(self, external_id: str) -> JobRecord | None:
        path = self.directory / f"{external_id}.json"
        data = await asyncio.to_thread(state_files.read_state, path)
        if data is None:
            return None
        try:
            return _RECORD.validate_json(data)
        except ValidationError as error:
            raise AgentError(f"{path} is not a valid command-line agent job: {error}") from None

    async def require(self, external_id: str) -> JobRecord:
        record = await self.load(external_id)
        if record is None:
            raise AgentError(f"no command-line agent job {external_id}")
        return record

    async def save(self, record: JobRecord) -> None:
        data = _RECORD.dump_json(record, indent=1) + b"\n"
        path = self.directory / f"{record.external_id}.json"
        await asyncio.to_thread(state_files.write_atomically, path, data)

    async def update(
        self, external_id: str, change: Callable[[JobRecord], JobRecord | None]
    ) -> JobRecord:
        """Apply `change` to the stored record under the lock; None from it changes nothing.
        Returns the record as stored afterwards."""
        async with self.locked(external_id):
            record = await self.require(external_id)
            changed = change(record)
            if changed is None:
                return record
            await self.save(changed)
            return changed
