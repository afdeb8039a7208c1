"""One turn of a command-line agent: a fresh sandbox holding a checkout of the run's branch (or
the base branch, before the run has one), the command run there with the prompt, the granted
secrets and the allowed hosts only, and what it changed committed and proposed by us.

The orchestrator commits, not the agent: the agent never sees a forge credential. Its changes
are read out of the sandbox (cli_changes.py), committed on the run's branch with
`Forge.push_commit` and proposed with `Forge.open_change_request`; no change makes the turn a
reply, and a plan-only pass's output is a plan (whatever it changed is dropped). Whatever the
outcome, the usage the command reported (cli_usage.py) goes with the answer.
"""

import asyncio
import dataclasses
import shlex
import shutil
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from codegenapp.domain.agent_settings import CliAgentSettings
from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.drivers.agent import AgentJobStatus, AgentTask, PullRequestRef
from codegenapp.drivers.agent.cli_changes import ChangesUnreadable, apply_diff, read_diff
from codegenapp.drivers.agent.cli_output import Output
from codegenapp.drivers.agent.cli_usage import USAGE_FILE, USAGE_VARIABLE, UsageInvalid, read_usage
from codegenapp.drivers.forge import CommitRequest, Forge
from codegenapp.drivers.sandbox import ResourceLimits, Sandbox, SandboxHandle, SandboxSpec
from codegenapp.errors import CodegenAppError, ForgeError, StepTimedOut

AUTHOR = "Command-line agent (CodegenApp)"
AUTHOR_EMAIL = "cli-agent@codegenapp.invalid"
PROMPT_VARIABLE = "CODEGENAPP_PROMPT"
PLAN_ONLY_VARIABLE = "CODEGENAPP_PLAN_ONLY"
MAX_ARGUMENT_BYTES = 128 * 1024 - 1
"""The kernel's limit on one argument or environment string (MAX_ARG_STRLEN)."""
REPLY_CHARS = 4000
ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class TurnInput:
    task: AgentTask  # with its secrets
    settings: CliAgentSettings
    prompt: str
    plan_only: bool
    number: int  # 1 for the goal's turn


@dataclass(frozen=True, slots=True)
class TurnAnswer:
    status: AgentJobStatus
    reply: str = ""
    plan: str | None = None
    pull_request: PullRequestRef | None = None
    error: str | None = None
    usage: AgentUsage | None = None


@dataclass(frozen=True, slots=True)
class Workplace:
    """Where a turn works: its sandbox driver, its forge, and a scratch directory of its own
    on this host (removed afterwards). `on_sandbox` is told the sandbox as soon as it exists."""

    sandbox: Sandbox
    forge: Forge
    scratch: Path
    on_sandbox: Callable[[SandboxHandle], Awaitable[None]]


def command_line(settings: CliAgentSettings, prompt: str) -> str:
    """The shell command with `{prompt}` replaced by the prompt, quoted for the shell."""
    return settings.command.replace("{prompt}", shlex.quote(prompt))


def agent_script(settings: CliAgentSettings, prompt: str) -> str:
    """What `sh -c` runs: the command, after pointing `$CODEGENAPP_USAGE` into the sandbox's
    home (a path only the shell inside knows), outside the checkout."""
    usage = f'{USAGE_VARIABLE}="$HOME/{USAGE_FILE}"; export {USAGE_VARIABLE}'
    return f"{usage}\n{command_line(settings, prompt)}"


def agent_environment(turn: TurnInput) -> dict[str, str]:
    """What the command gets besides the sandbox's own PATH, HOME, LANG and CI: an identity
    for commits it makes itself, the granted secrets, and ours."""
    return {
        "GIT_AUTHOR_NAME": AUTHOR,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        **turn.task.secrets,
        PROMPT_VARIABLE: turn.prompt,
        PLAN_ONLY_VARIABLE: "1" if turn.plan_only else "0",
    }


def sandbox_spec(turn: TurnInput) -> SandboxSpec:
    """The project's sandbox, reaching only the agent's allowed hosts; no secret in the spec
    (it is stored with the sandbox's state): they reach the command alone."""
    resources = turn.task.deployment.resources
    return SandboxSpec(
        name=f"agent-run-{turn.task.run_id}-turn-{turn.number}",
        limits=ResourceLimits(
            cpus=resources.cpus,
            memory_mb=resources.memory_mb,
            pids=resources.pids,
            disk_mb=resources.disk_mb,
        ),
        image=turn.task.deployment.image,
        allowed_hosts=tuple(turn.settings.allowed_hosts),
    )


async def play(turn: TurnInput, place: Workplace, output: Output) -> TurnAnswer:
    """Run the turn to its answer. Never raises for what the agent, the sandbox or the forge
    did (the answer is FAILED, saying why); the sandbox is gone when it returns."""
    missing = sorted(set(turn.settings.secrets) - set(turn.task.secrets))
    if missing:
        return _failed(
            f"the project has no secret named {', '.join(missing)}: add it to the project's "
            "secrets, or remove it from agent.secrets"
        )
    problem = _too_long(turn)
    if problem:
        return _failed(problem)
    await asyncio.to_thread(shutil.rmtree, place.scratch, ignore_errors=True)
    try:
        return await _play(turn, place, output)
    except (CodegenAppError, ChangesUnreadable) as error:
        return _failed(str(error))
    finally:
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, place.scratch, ignore_errors=True))


async def _play(turn: TurnInput, place: Workplace, output: Output) -> TurnAnswer:
    task = turn.task
    parent, branch_existed = await _start_point(place.forge, task)
    started_at = int(time.time())
    checkout = place.scratch / "checkout"
    checkout.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    await place.forge.fetch_snapshot(task.repository, parent, checkout)
    where = task.branch if branch_existed else task.base_branch
    handle = await place.sandbox.create(sandbox_spec(turn))
    try:
        await place.on_sandbox(handle)
        isolation = "" if place.sandbox.isolated else ", NOT ISOLATED"
        hosts = ", ".join(turn.settings.allowed_hosts) or "none"
        await output.note(
            f"turn {turn.number}{' (plan only)' if turn.plan_only else ''}: {where!r} at "
            f"{parent[:12]} in a {place.sandbox.name} sandbox{isolation}; secrets: "
            f"{granted(task.secrets)}; hosts: {hosts}"
        )
        await place.sandbox.put_tree(handle, partial(_copy_tree, checkout))
        answer = await _run_command(turn, place, handle, output)
        usage = await _usage(place.sandbox, handle, output)
        if answer is not None:
            return dataclasses.replace(answer, usage=usage)
        if turn.plan_only:
            return dataclasses.replace(await _plan(output), usage=usage)
        diff = await read_diff(place.sandbox, handle, parent)
    finally:
        await asyncio.shield(place.sandbox.destroy(handle))
    changes = await apply_diff(checkout, diff)
    for note in changes.notes:
        await output.note(note)
    if changes.empty:
        reply = output.tail(REPLY_CHARS) or "The agent changed nothing and printed nothing."
        return TurnAnswer(AgentJobStatus.WAITING, reply=reply, usage=usage)
    head = await place.forge.push_commit(
        task.repository,
        CommitRequest(
            branch=task.branch,
            parent=parent,
            create=not branch_existed,
            files=changes.files,
            deletes=changes.deletes,
            message=_commit_message(task, turn.number, created=not branch_existed),
            author=AUTHOR,
            date=started_at,
        ),
    )
    change = await place.forge.open_change_request(
        task.repository,
        head_branch=task.branch,
        base_branch=task.base_branch,
        title=_first_line(task.goal),
        body=f"{task.goal}\n\n---\nMade by a command-line agent (`{_program(turn.settings)}`); "
        "committed and opened by CodegenApp.",
    )
    await output.note(
        f"committed {head[:12]} to {task.branch!r} ({len(changes.files)} written, "
        f"{len(changes.deletes)} deleted); pull request #{change.number}: {change.url}"
    )
    reply = output.tail(REPLY_CHARS) or f"Pull request #{change.number} is at {head[:12]}."
    return TurnAnswer(
        AgentJobStatus.WAITING,
        reply=reply,
        pull_request=PullRequestRef(change.number, change.url, task.branch),
        usage=usage,
    )


async def _run_command(
    turn: TurnInput, place: Workplace, handle: SandboxHandle, output: Output
) -> TurnAnswer | None:
    """Run the agent's command; a FAILED answer if it failed or timed out, else None."""
    timeout = turn.settings.timeout_minutes * 60
    try:
        result = await place.sandbox.exec(
            handle,
            ["sh", "-c", agent_script(turn.settings, turn.prompt)],
            on_output=output,
            timeout=timeout,
            env=agent_environment(turn),
            egress=bool(turn.settings.allowed_hosts),
        )
    except StepTimedOut:
        await output.flush()
        minutes = f"{turn.settings.timeout_minutes:g}"
        return _failed(f"timed out: the command ran {minutes} minutes and was killed")
    await output.flush()
    if result.exit_code != 0:
        tail = output.tail(ERROR_CHARS)
        said = f":\n{tail}" if tail else " and printed nothing"
        return _failed(f"the command exited with code {result.exit_code}{said}")
    return None


async def _usage(sandbox: Sandbox, handle: SandboxHandle, output: Output) -> AgentUsage | None:
    """The usage the command reported, if any; a file we cannot take is ignored, saying why
    (a turn's answer never depends on it)."""
    try:
        usage = await read_usage(sandbox, handle)
    except UsageInvalid as problem:
        await output.note(f"usage file ignored: {problem}")
        return None
    if usage is not None and usage.model is not None:
        usage = dataclasses.replace(usage, model=output.mask(usage.model))
    return usage


async def _plan(output: Output) -> TurnAnswer:
    plan = output.tail(REPLY_CHARS)
    if not plan:
        return _failed("the plan-only pass printed no plan")
    await output.note("plan-only pass: its output is the plan; nothing it changed is kept")
    return TurnAnswer(AgentJobStatus.WAITING, plan=plan)


async def _start_point(forge: Forge, task: AgentTask) -> tuple[str, bool]:
    """The commit the turn works on: the run's branch, else the base branch; and whether the
    run's branch exists already."""
    for branch, existed in ((task.branch, True), (task.base_branch, False)):
        head = await forge.branch_head(task.repository, branch)
        if head is not None:
            return head, existed
    raise ForgeError(
        f"{task.repository} has neither branch {task.branch!r} nor {task.base_branch!r}"
    )


async def _copy_tree(source: Path, dest: Path) -> None:
    await asyncio.to_thread(shutil.copytree, source, dest, symlinks=True)


def _too_long(turn: TurnInput) -> str | None:
    environment = agent_environment(turn)
    entry = len(PROMPT_VARIABLE) + 1 + len(environment[PROMPT_VARIABLE].encode())
    command = len(agent_script(turn.settings, turn.prompt).encode())
    if max(entry, command) > MAX_ARGUMENT_BYTES:
        return (
            f"the prompt is too long for a command line ({len(turn.prompt.encode())} bytes; "
            f"$CODEGENAPP_PROMPT and the quoted {{prompt}} hold at most {MAX_ARGUMENT_BYTES})"
        )
    return None


def _failed(error: str) -> TurnAnswer:
    return TurnAnswer(AgentJobStatus.FAILED, error=error)


def _commit_message(task: AgentTask, number: int, *, created: bool) -> str:
    title = _first_line(task.goal)
    return title if created else f"{title} (turn {number})"


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "Agent change")
    return line if len(line) <= 100 else line[:99] + "…"


def _program(settings: CliAgentSettings) -> str:
    words = settings.command.split()
    return words[0] if words else "sh"


def granted(secrets: Mapping[str, str]) -> str:
    """The granted secrets' names, for the activity feed (never their values)."""
    return ", ".join(sorted(secrets)) or "none"
