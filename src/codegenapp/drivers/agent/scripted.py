"""The scripted agent: replays a recipe (see `recipe.py`) as if it were a coding agent.

It is the demo's and the tests' stand-in for an AI and never pretends otherwise: `is_ai` is
False and every progress message starts with "[scripted agent]". A job is a JSON file in the
agent's state directory, so any process can poll or resume it.
"""

import asyncio
import contextlib
import dataclasses
import hashlib
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from codegenapp.domain.agent_settings import AgentSettings, ScriptedAgentSettings
from codegenapp.domain.repositories import ForgeKind
from codegenapp.drivers import state_files
from codegenapp.drivers.agent import (
    FIRST_TURN,
    AgentJob,
    AgentJobStatus,
    AgentState,
    AgentTask,
    PullRequestRef,
    TurnMarker,
)
from codegenapp.drivers.agent.recipe import Recipe, Turn, TurnKind, parse_recipe
from codegenapp.drivers.forge import CommitRequest, Forge
from codegenapp.errors import AgentConfigInvalid, AgentError, ForgeError

LABEL = "[scripted agent]"
NO_TURN_LEFT = "the recipe has no turn left for this message"
AUTHOR = "Scripted agent (CodegenApp)"  # the commits say who wrote them: not an AI
_EXTERNAL_ID = re.compile(r"^[0-9]+-[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True)
class PendingTurn:
    """A message accepted but not yet answered. Everything a files turn needs to build its
    commit is fixed here first, so replaying it after a crash makes the very same commit."""

    request_id: str
    prompt: str
    started_at: int  # unix seconds: the commit's date
    parent: str | None = None  # the commit a files turn builds on
    branch_existed: bool = False
    problem: str | None = None  # why a files turn has nothing to build on


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job's state file. `recipe` is a copy taken at start: editing the project's recipe later
    does not change a running job."""

    external_id: str
    task: AgentTask
    recipe: Recipe
    status: AgentJobStatus
    turn: int = 0
    request_ids: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    progress: tuple[str, ...] = ()
    reply: str = ""
    plan: str | None = None
    pull_request: PullRequestRef | None = None
    error: str | None = None
    pending: PendingTurn | None = None


@dataclass(frozen=True, slots=True)
class _Answer:
    status: AgentJobStatus
    progress: tuple[str, ...]
    reply: str = ""
    plan: str | None = None
    pull_request: PullRequestRef | None = None
    error: str | None = None


_RECORD = TypeAdapter(JobRecord)


class ScriptedAgent:
    """`Agent` that answers each message with the recipe's next turn, immediately: when
    `start` or `resume` returns, the turn is over."""

    name = "scripted"
    is_ai = False

    def __init__(self, state_dir: Path, forges: Callable[[ForgeKind], Forge]) -> None:
        """`forges`: the forge of a kind (a task says which its repository is on)."""
        self._jobs = state_dir / "jobs"
        self._forges = forges

    async def check_settings(self, settings: AgentSettings) -> None:
        await asyncio.to_thread(parse_recipe, _scripted(settings).recipe)

    async def start(self, task: AgentTask, *, request_id: str) -> AgentJob:
        """Raise `AgentConfigInvalid` (and create nothing) if the recipe is missing or bad."""
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:16]
        external_id = f"{task.run_id}-{digest}"
        async with self._locked(external_id):
            record = await self._load(external_id)
            if record is None:
                recipe = await asyncio.to_thread(parse_recipe, _scripted(task.settings).recipe)
                record = JobRecord(external_id, task, recipe, AgentJobStatus.RUNNING)
                record = await self._accept(record, request_id, task.goal)
            await self._answer_pending(record)
        return AgentJob(driver=self.name, external_id=external_id)

    async def resume(self, job: AgentJob, prompt: str, *, request_id: str) -> TurnMarker:
        """Raise `AgentError` if the job is not waiting for a message (failed, cancelled). The
        marker is how many turns were answered before this message; a repeated `request_id`
        sends nothing new and gets its first marker again."""
        async with self._locked(self._id(job)):
            record = await self._require(job)
            if request_id in record.request_ids:
                return _marker(record.request_ids.index(request_id))
            if record.pending is not None and record.pending.request_id == request_id:
                await self._answer_pending(record)
                return _marker(record.turn)
            record = await self._answer_pending(record)
            if record.status is not AgentJobStatus.WAITING:
                detail = f": {record.error}" if record.error else ""
                raise AgentError(f"scripted job {record.external_id} is {record.status}{detail}")
            marker = _marker(record.turn)
            record = await self._accept(record, request_id, prompt)
            await self._answer_pending(record)
            return marker

    async def poll(self, job: AgentJob, *, turn: TurnMarker, since: int = 0) -> AgentState:
        record = await self._require(job)
        since = max(0, since)
        answered = record.turn > int(turn or 0)
        return AgentState(
            status=record.status if answered else AgentJobStatus.RUNNING,
            reply=record.reply,
            plan=record.plan,
            pull_request=record.pull_request,
            progress=record.progress[since:],
            cursor=len(record.progress),
            error=record.error,
        )

    async def cancel(self, job: AgentJob) -> None:
        async with self._locked(self._id(job)):
            record = await self._require(job)
            if record.status in (AgentJobStatus.WAITING, AgentJobStatus.RUNNING):
                progress = (*record.progress, f"{LABEL} cancelled")
                cancelled = AgentJobStatus.CANCELLED
                await self._save(dataclasses.replace(record, status=cancelled, progress=progress))

    def prompts(self, job: AgentJob) -> list[str]:
        """Every message the job was given, the goal first: what the agent was told."""
        data = state_files.read_state(self._jobs / f"{self._id(job)}.json")
        if data is None:
            raise AgentError(f"no scripted job {job.external_id}")
        return list(_RECORD.validate_json(data).prompts)

    async def _accept(self, record: JobRecord, request_id: str, prompt: str) -> JobRecord:
        """Store the message as pending, with the start point of a files turn fixed."""
        pending = PendingTurn(request_id=request_id, prompt=prompt, started_at=int(time.time()))
        turn = _next_turn(record)
        if turn is not None and turn.kind is TurnKind.FILES:
            try:
                parent, existed = await _start_point(self._forges(record.task.forge), record.task)
                pending = dataclasses.replace(pending, parent=parent, branch_existed=existed)
            except ForgeError as error:
                pending = dataclasses.replace(pending, problem=str(error))
        accepted = dataclasses.replace(record, status=AgentJobStatus.RUNNING, pending=pending)
        await self._save(accepted)
        return accepted

    async def _answer_pending(self, record: JobRecord) -> JobRecord:
        """Play the turn for the pending message, if any, and store its answer."""
        pending = record.pending
        if pending is None:
            return record
        answer = await self._play(record, pending)
        answered = dataclasses.replace(
            record,
            status=answer.status,
            turn=record.turn + 1,
            request_ids=(*record.request_ids, pending.request_id),
            prompts=(*record.prompts, pending.prompt),
            progress=(*record.progress, *answer.progress),
            reply=answer.reply,
            plan=answer.plan,
            pull_request=answer.pull_request,
            error=answer.error,
            pending=None,
        )
        await self._save(answered)
        return answered

    async def _play(self, record: JobRecord, pending: PendingTurn) -> _Answer:
        number = record.turn + 1
        turn = _next_turn(record)
        if turn is None:
            return _Answer(AgentJobStatus.FAILED, (f"{LABEL} {NO_TURN_LEFT}",), error=NO_TURN_LEFT)
        said = (f"{LABEL} turn {number}: {turn.kind}", *(f"{LABEL} {m}" for m in turn.progress))
        if turn.kind is TurnKind.REPLY:
            return _Answer(AgentJobStatus.WAITING, said, reply=turn.text)
        if turn.kind is TurnKind.PLAN:
            return _Answer(AgentJobStatus.WAITING, said, plan=turn.text)
        if turn.kind is TurnKind.FAIL:
            return _Answer(AgentJobStatus.FAILED, (*said, f"{LABEL} gave up"), error=turn.text)
        try:
            return await self._push(record, pending, turn, said)
        except ForgeError as error:
            reason = f"could not push the recipe's changes: {error}"
            return _Answer(AgentJobStatus.FAILED, (*said, f"{LABEL} {reason}"), error=reason)

    async def _push(
        self, record: JobRecord, pending: PendingTurn, turn: Turn, said: tuple[str, ...]
    ) -> _Answer:
        """Commit the turn's files to the run's branch and open (or find) its pull request."""
        task, number = record.task, record.turn + 1
        if pending.parent is None:
            raise ForgeError(pending.problem or "there is no commit to build on")
        forge = self._forges(task.forge)
        head = await forge.push_commit(
            task.repository,
            CommitRequest(
                branch=task.branch,
                parent=pending.parent,
                create=not pending.branch_existed,
                files=tuple((write.path, write.content) for write in turn.files),
                deletes=turn.delete,
                message=turn.message or f"Scripted change {number}",
                author=AUTHOR,
                date=pending.started_at,
            ),
        )
        change = await forge.open_change_request(
            task.repository,
            head_branch=task.branch,
            base_branch=task.base_branch,
            title=turn.title or _first_line(task.goal),
            body=f"{task.goal}\n\n---\nOpened by the scripted agent: a recipe replay, not an AI.",
        )
        pull_request = PullRequestRef(change.number, change.url, task.branch)
        pushed = (
            f"{LABEL} committed {head[:12]} to {task.branch!r} "
            f"({len(turn.files)} written, {len(turn.delete)} deleted)",
            f"{LABEL} pull request #{change.number} is at {head[:12]}: {change.url}",
        )
        reply = turn.text or f"Pull request #{change.number} is at {head[:12]}."
        return _Answer(AgentJobStatus.WAITING, (*said, *pushed), reply, None, pull_request)

    @contextlib.asynccontextmanager
    async def _locked(self, external_id: str) -> AsyncIterator[None]:
        async with state_files.locked(self._jobs / f"{external_id}.lock", error=AgentError):
            yield

    def _id(self, job: AgentJob) -> str:
        if job.driver != self.name or not _EXTERNAL_ID.match(job.external_id):
            raise AgentError(f"{job.driver}/{job.external_id} is not a scripted agent job")
        return job.external_id

    async def _load(self, external_id: str) -> JobRecord | None:
        path = self._jobs / f"{external_id}.json"
        data = await asyncio.to_thread(state_files.read_state, path)
        if data is None:
            return None
        try:
            return _RECORD.validate_json(data)
        except ValidationError as error:
            raise AgentError(f"{path} is not a valid scripted job file: {error}") from None

    async def _require(self, job: AgentJob) -> JobRecord:
        record = await self._load(self._id(job))
        if record is None:
            raise AgentError(f"no scripted job {job.external_id}")
        return record

    async def _save(self, record: JobRecord) -> None:
        data = _RECORD.dump_json(record, indent=2) + b"\n"
        path = self._jobs / f"{record.external_id}.json"
        await asyncio.to_thread(state_files.write_atomically, path, data)


def _scripted(settings: AgentSettings) -> ScriptedAgentSettings:
    if not isinstance(settings, ScriptedAgentSettings):
        raise AgentConfigInvalid("agent.provider", "the scripted agent needs 'scripted'")
    return settings


def _marker(answered_before: int) -> TurnMarker:
    return TurnMarker(str(answered_before)) if answered_before else FIRST_TURN


def _next_turn(record: JobRecord) -> Turn | None:
    turns = record.recipe.turns
    return turns[record.turn] if record.turn < len(turns) else None


def _first_line(goal: str) -> str:
    line = next((part.strip() for part in goal.splitlines() if part.strip()), "Scripted change")
    return line if len(line) <= 100 else line[:99] + "…"


async def _start_point(forge: Forge, task: AgentTask) -> tuple[str, bool]:
    """The commit a files turn builds on: the branch's tip, else the base branch's; and
    whether the branch exists already."""
    for branch, existed in ((task.branch, True), (task.base_branch, False)):
        head = await forge.branch_head(task.repository, branch)
        if head is not None:
            return head, existed
    raise ForgeError(
        f"{task.repository} has neither branch {task.branch!r} nor {task.base_branch!r}"
    )
