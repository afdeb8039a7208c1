"""The command-line agent: any coding agent with a command line (aider, Claude Code, Codex CLI, a
team's script) answers a run's goal in the project's sandbox, and CodegenApp commits for it.

Each message (the goal, a plan answer, a fix request) is one *turn*: a fresh sandbox with a
checkout of the run's branch, the command run there once (cli_turn.py), its changes committed
and proposed by us. The command gets the prompt in `$CODEGENAPP_PROMPT` (and in place of
`{prompt}` in the command, shell-quoted); `$CODEGENAPP_PLAN_ONLY` is 1 for a plan-only pass
(the first turn, with `plan_first`), 0 otherwise; it may report what the turn used in a JSON
file at `$CODEGENAPP_USAGE` (cli_usage.py). A command keeps nothing between turns, so each
later prompt repeats the goal and the latest plan before the new message.

A job is a state file (cli_jobs.py) that any process can poll. A turn runs in a background
task of the process that accepted its message, and is marked FAILED ("the server that ran it
stopped") by the first poll after that process is gone. `start` and `resume` are at least
once: a repeated request id gets its first turn's marker, and a turn whose process died is
run again by whoever repeats its request.
"""

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from codegenapp.domain import acceptance
from codegenapp.domain.agent_settings import AgentSettings, CliAgentSettings
from codegenapp.domain.masking import Masker
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.secret_box import SecretBox, SecretUnreadable
from codegenapp.drivers.agent import (
    FIRST_TURN,
    AgentJob,
    AgentJobStatus,
    AgentState,
    AgentTask,
    TurnMarker,
)
from codegenapp.drivers.agent.cli_jobs import JobRecord, JobStore, Owner, TurnRecord
from codegenapp.drivers.agent.cli_output import Output
from codegenapp.drivers.agent.cli_turn import TurnAnswer, TurnInput, Workplace, play
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.sandbox import Sandbox, SandboxHandle
from codegenapp.errors import AgentConfigInvalid, AgentError, CodegenAppError

log = logging.getLogger(__name__)

LABEL = "[cli agent]"
STOPPED = "the server that ran it stopped"
CANCEL_WAIT_S = 30.0
_EXTERNAL_ID = re.compile(r"^[0-9]+-[0-9a-f]{16}$")

# This process's running turns, by (job, turn index), whichever instance started them (one
# process may hold several back ends, as tests do): an owner that is this very process runs
# a turn only while its task is here and not done.
_RUNNING: dict[tuple[str, int], "asyncio.Task[None]"] = {}


class CliAgent:
    """`Agent` that runs a command-line agent, one sandbox per turn."""

    name = "cli"
    is_ai = True  # the agents it is for are; a team's script says what it is in its output

    def __init__(
        self,
        state_dir: Path,
        *,
        forges: Callable[[ForgeKind], Forge],
        sandboxes: Callable[[str | None], Sandbox],
        secret_box: SecretBox,
    ) -> None:
        """`forges`: the forge of a kind; `sandboxes`: the sandbox driver of a kind (None: the
        server's default); `secret_box`: the server's key, which seals a job's secrets."""
        self._store = JobStore(state_dir / "jobs")
        self._scratch = state_dir / "scratch"
        self._forges = forges
        self._sandboxes = sandboxes
        self._secret_box = secret_box
        self._mine: set[tuple[str, int]] = set()

    async def check_settings(self, settings: AgentSettings) -> None:
        _cli(settings)

    async def start(self, task: AgentTask, *, request_id: str) -> AgentJob:
        """Accept the goal and start its turn in the background; return at once. Raise
        `AgentConfigInvalid` for settings of another agent."""
        settings = _cli(task.settings)
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:16]
        external_id = f"{task.run_id}-{digest}"
        async with self._store.locked(external_id):
            record = await self._store.load(external_id)
            if record is None:
                record = JobRecord(
                    external_id,
                    dataclasses.replace(task, secrets={}),
                    sealed_secrets=self._seal(task.secrets),
                )
                prompt = first_prompt(task, plan_only=settings.plan_first)
                turn = TurnRecord(request_id, prompt, plan_only=settings.plan_first)
                await self._accept(record, turn)
            else:
                await self._take_over(record, 0)
        return AgentJob(driver=self.name, external_id=external_id)

    async def resume(self, job: AgentJob, prompt: str, *, request_id: str) -> TurnMarker:
        """Raise `AgentError` if the job was cancelled or its last turn still runs."""
        external_id = self._id(job)
        async with self._store.locked(external_id):
            record = await self._store.require(external_id)
            for index, turn in enumerate(record.turns):
                if turn.request_id == request_id:
                    await self._take_over(record, index)
                    return _marker(index)
            last = len(record.turns) - 1
            if record.last.status is AgentJobStatus.RUNNING:
                if self._runs(external_id, last, record.last):
                    raise AgentError(f"command-line agent job {external_id} is still running")
                record = _stopped(record, last)
            if record.last.status is AgentJobStatus.CANCELLED:
                raise AgentError(f"command-line agent job {external_id} was cancelled")
            text = later_prompt(record.task.goal, record.plan(), prompt)
            await self._accept(record, TurnRecord(request_id, text, plan_only=False))
            return _marker(last + 1)

    async def poll(self, job: AgentJob, *, turn: TurnMarker, since: int = 0) -> AgentState:
        external_id = self._id(job)
        record = await self._store.require(external_id)
        index = int(turn or 0)
        if not 0 <= index < len(record.turns):
            raise AgentError(f"command-line agent job {external_id} has no turn {turn!r}")
        if record.turns[index].status is AgentJobStatus.RUNNING and not self._runs(
            external_id, index, record.turns[index]
        ):
            record = await self._store.update(external_id, partial(self._if_stopped, index=index))
        answer = record.turns[index]
        return AgentState(
            status=answer.status,
            reply=answer.reply,
            plan=answer.plan,
            pull_request=answer.pull_request,
            progress=record.progress[max(0, since) :],
            cursor=len(record.progress),
            error=answer.error,
            usage=answer.usage,
        )

    async def cancel(self, job: AgentJob) -> None:
        """Kill the running turn's command and destroy its sandbox, from whichever process.
        Idempotent."""
        external_id = self._id(job)
        async with self._store.locked(external_id):
            record = await self._store.require(external_id)
            index = len(record.turns) - 1
            if index < 0 or record.last.status not in (
                AgentJobStatus.RUNNING,
                AgentJobStatus.WAITING,
            ):
                return
            sandbox = record.last.sandbox if record.last.status is AgentJobStatus.RUNNING else None
            cancelled = dataclasses.replace(
                record.last, status=AgentJobStatus.CANCELLED, owner=None, sandbox=None
            )
            record = record.with_turn(index, cancelled)
            await self._store.save(
                dataclasses.replace(record, progress=(*record.progress, f"{LABEL} cancelled"))
            )
        task = _RUNNING.get((external_id, index))
        if task is not None:
            task.cancel()  # its sandbox is destroyed on the way out
            await asyncio.wait({task}, timeout=CANCEL_WAIT_S)
        elif sandbox is not None:
            await self._sandboxes(sandbox.driver).destroy(sandbox)

    async def stop_turns(self) -> None:
        """Stop the turns this instance runs (at shutdown): each ends FAILED, its sandbox
        destroyed. Nothing would be left to finish them."""
        tasks = [_RUNNING[key] for key in self._mine if key in _RUNNING]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CANCEL_WAIT_S)

    async def _accept(self, record: JobRecord, turn: TurnRecord) -> None:
        """Store `turn` as the job's next, owned by this process, and start it. Under the lock:
        the task exists before anyone can see the turn."""
        index = len(record.turns)
        turn = dataclasses.replace(turn, owner=Owner.me())
        await self._store.save(dataclasses.replace(record, turns=(*record.turns, turn)))
        self._launch(record.external_id, index)

    async def _take_over(self, record: JobRecord, index: int) -> None:
        """Run turn `index` again here if it was accepted but its process died: the message
        was sent twice (at least once)."""
        turn = record.turns[index]
        if turn.status is not AgentJobStatus.RUNNING or self._runs(record.external_id, index, turn):
            return
        await self._store.save(
            record.with_turn(index, dataclasses.replace(turn, owner=Owner.me(), sandbox=None))
        )
        self._launch(record.external_id, index)

    def _launch(self, external_id: str, index: int) -> None:
        key = (external_id, index)
        _RUNNING[key] = asyncio.create_task(
            self._run_turn(external_id, index), name=f"cli-agent-{external_id}-{index}"
        )
        self._mine.add(key)

    async def _run_turn(self, external_id: str, index: int) -> None:
        key = (external_id, index)
        try:
            try:
                answer = await self._play(external_id, index)
            except Exception as error:  # a bug of ours must not leave the turn running forever
                log.exception("turn %s of command-line agent job %s failed", index, external_id)
                answer = _failure(f"internal error: {type(error).__name__}: {error}")
            await self._finish(external_id, index, answer)
        except asyncio.CancelledError:
            # By `cancel` (the turn says so already, and keeps saying it) or at shutdown.
            await asyncio.shield(self._finish(external_id, index, _failure(STOPPED)))
            raise
        finally:
            self._mine.discard(key)
            if _RUNNING.get(key) is asyncio.current_task():
                del _RUNNING[key]

    async def _play(self, external_id: str, index: int) -> TurnAnswer:
        record = await self._store.require(external_id)
        turn = record.turns[index]
        try:
            secrets = self._unseal(record.sealed_secrets)
            task = dataclasses.replace(record.task, secrets=secrets)
            played = TurnInput(task, _cli(task.settings), turn.prompt, turn.plan_only, index + 1)
            place = Workplace(
                sandbox=self._sandboxes(task.deployment.sandbox),
                forge=self._forges(task.forge),
                scratch=self._scratch / external_id,
                on_sandbox=partial(self._record_sandbox, external_id, index),
            )
        except (CodegenAppError, SecretUnreadable) as error:
            return _failure(str(error))
        output = Output(
            Masker.for_secrets(secrets.values()),
            partial(self._publish, external_id, index),
            label=LABEL,
        )
        try:
            return await play(played, place, output)
        finally:
            with contextlib.suppress(AgentError):
                await asyncio.shield(output.flush())

    async def _publish(self, external_id: str, index: int, lines: Sequence[str]) -> None:
        """Add the command's lines to the job's progress while the turn is still on."""

        def add(record: JobRecord) -> JobRecord | None:
            if record.turns[index].status is not AgentJobStatus.RUNNING:
                return None
            return dataclasses.replace(record, progress=(*record.progress, *lines))

        await self._store.update(external_id, add)

    async def _record_sandbox(self, external_id: str, index: int, handle: SandboxHandle) -> None:
        def keep(record: JobRecord) -> JobRecord | None:
            turn = record.turns[index]
            if turn.status is not AgentJobStatus.RUNNING:
                return None
            return record.with_turn(index, dataclasses.replace(turn, sandbox=handle))

        stored = await self._store.update(external_id, keep)
        if stored.turns[index].status is not AgentJobStatus.RUNNING:
            # Cancelled from another process while the sandbox was made, so it could not
            # destroy it: stop here, and the sandbox goes on the way out.
            raise asyncio.CancelledError

    async def _finish(self, external_id: str, index: int, answer: TurnAnswer) -> None:
        """Store the turn's answer, unless the turn was cancelled (or marked stopped) since."""

        def answered(record: JobRecord) -> JobRecord | None:
            turn = record.turns[index]
            if turn.status is not AgentJobStatus.RUNNING or turn.owner != Owner.me():
                return None
            done = dataclasses.replace(
                turn,
                status=answer.status,
                owner=None,
                sandbox=None,
                reply=answer.reply,
                plan=answer.plan,
                pull_request=answer.pull_request,
                error=answer.error,
                usage=answer.usage,
            )
            notes = (f"{LABEL} failed: {answer.error}",) if answer.error else ()
            record = dataclasses.replace(record, progress=(*record.progress, *notes))
            return record.with_turn(index, done)

        await self._store.update(external_id, answered)

    def _if_stopped(self, record: JobRecord, *, index: int) -> JobRecord | None:
        turn = record.turns[index]
        if turn.status is not AgentJobStatus.RUNNING or self._runs(record.external_id, index, turn):
            return None
        return _stopped(record, index)

    @staticmethod
    def _runs(external_id: str, index: int, turn: TurnRecord) -> bool:
        """Whether the process that owns the running turn is still at it."""
        if turn.owner is None:
            return False
        if turn.owner == Owner.me():
            task = _RUNNING.get((external_id, index))
            return task is not None and not task.done()
        return turn.owner.runs()

    def _seal(self, secrets: Mapping[str, str]) -> dict[str, str]:
        return {name: self._secret_box.seal(value) for name, value in secrets.items()}

    def _unseal(self, sealed: Mapping[str, str]) -> dict[str, str]:
        return {name: self._secret_box.open(value) for name, value in sealed.items()}

    def _id(self, job: AgentJob) -> str:
        if job.driver != self.name or not _EXTERNAL_ID.match(job.external_id):
            raise AgentError(f"{job.driver}/{job.external_id} is not a command-line agent job")
        return job.external_id


def first_prompt(task: AgentTask, *, plan_only: bool) -> str:
    """The goal, with what a command-line agent needs to know about where it works."""
    if plan_only:
        how = (
            "This pass is plan-only: print a numbered plan of what you would change, and change "
            "no file. A person reads the plan before you are asked to carry it out.\n\n"
            + acceptance.HOW_TO_LIST
        )
    else:
        how = (
            "Change the files as the goal asks; CodegenApp commits your changes and opens the "
            "pull request (do not push). If the goal is a question, answer it and change nothing."
        )
    name = task.repository if task.forge is ForgeKind.GITHUB else Path(task.repository).name
    return f"{task.goal.strip()}\n\n---\nYou work in a checkout of {name}. {how}"


def later_prompt(goal: str, plan: str | None, message: str) -> str:
    """A later turn's prompt: the command remembers nothing, so the goal and the latest plan
    come first, then the message (a plan answer, a continuation, a validation's error
    context)."""
    parts = [goal.strip()]
    if plan:
        parts.append(f"Your plan:\n{plan.strip()}")
    parts.append(message.strip())
    return "\n\n---\n".join(parts)


def _stopped(record: JobRecord, index: int) -> JobRecord:
    turn = dataclasses.replace(
        record.turns[index], status=AgentJobStatus.FAILED, owner=None, sandbox=None, error=STOPPED
    )
    record = dataclasses.replace(record, progress=(*record.progress, f"{LABEL} {STOPPED}"))
    return record.with_turn(index, turn)


def _failure(error: str) -> TurnAnswer:
    return TurnAnswer(AgentJobStatus.FAILED, error=error)


def _marker(index: int) -> TurnMarker:
    return TurnMarker(str(index)) if index else FIRST_TURN


def _cli(settings: AgentSettings) -> CliAgentSettings:
    if not isinstance(settings, CliAgentSettings):
        raise AgentConfigInvalid("agent.provider", "the command-line agent needs 'cli'")
    return settings
