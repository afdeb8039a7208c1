"""The agent-run flow's durable steps that talk to the agent: ask, wait for the turn, record it.

Each ask carries a request id made of the run and the turn number, which an agent that can
keep one uses to send a message once; others may get it twice when a step re-runs after a
crash (at least once). Each ask returns the marker of the turn it opened, and the wait is for
that turn, so an earlier turn's answer is never taken for the new one.
"""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dbos import DBOS

from codegenapp.db.queries import agent_runs, interactions, projects, pull_requests
from codegenapp.db.tables import AgentRunRow, ProjectRow
from codegenapp.domain.agent_settings import AgentSettings, CliAgentSettings
from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.domain.states import ResponseType
from codegenapp.drivers.agent import (
    FIRST_TURN,
    Agent,
    AgentJob,
    AgentJobStatus,
    AgentState,
    AgentTask,
    TurnMarker,
)
from codegenapp.drivers.forge import ChangeState
from codegenapp.flows import budgets, project_secrets
from codegenapp.flows.runtime import current

MAX_POLL_INTERVAL_SEC = 5.0


class TurnKind(StrEnum):
    REPLY = "reply"
    PLAN = "plan"
    PULL_REQUEST = "pull_request"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OVER_BUDGET = "over_budget"  # the agent used the run's minutes: its turn was cancelled


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    kind: TurnKind
    text: str
    pull_request_id: int | None = None
    head_sha: str | None = None
    pr_number: int | None = None


def _request_id(run_id: int, turn: int) -> str:
    return f"agent-run-{run_id}-turn-{turn}"


async def _load(run_id: int) -> tuple[AgentRunRow, ProjectRow, Agent]:
    runtime = current()
    async with runtime.database.read() as session:
        run = await agent_runs.require_run(session, run_id)
        project = await projects.get_project(session, run.project_id)
    if project is None:
        raise RuntimeError(f"the project of agent run {run_id} was deleted")
    return run, project, runtime.drivers.agent(projects.agent_settings_of(project))


def _job(run: AgentRunRow) -> AgentJob:
    if run.agent_driver is None or run.agent_job_id is None:
        raise RuntimeError(f"agent run {run.id} has no agent job yet")
    return AgentJob(driver=run.agent_driver, external_id=run.agent_job_id)


@DBOS.step(name="agent.open_segment")
async def open_segment(run_id: int) -> tuple[int, str | None]:
    """The turn a workflow segment starts with, and the person's message that opens it (None
    for the first segment, which starts with the goal)."""
    async with current().database.read() as session:
        run = await agent_runs.require_run(session, run_id)
    return run.turns_requested + 1, run.next_message if run.segment > 0 else None


@DBOS.step(name="agent.start")
async def start(run_id: int, turn: int) -> TurnMarker:
    run, project, agent = await _load(run_id)
    async with current().database.transaction() as session:
        await agent_runs.mark_running(
            session, run_id, turn=turn, message="Sent the goal to the agent"
        )
        await interactions.record_prompt(session, run_id, turn=turn, kind="goal", prompt=run.goal)
    settings = projects.agent_settings_of(project)
    task = AgentTask(
        run_id=run_id,
        goal=run.goal,
        repository=project.repository,
        base_branch=project.default_branch,
        branch=run.branch,
        settings=settings,
        forge=projects.forge_of(project),
        deployment=projects.settings_of(project).deployment_settings,
        secrets=await _granted_secrets(project, settings),
    )
    job = await agent.start(task, request_id=_request_id(run_id, turn))
    async with current().database.transaction() as session:
        await agent_runs.record_job(
            session, run_id, driver=job.driver, job_id=job.external_id, is_ai=agent.is_ai
        )
    return FIRST_TURN


async def _granted_secrets(project: ProjectRow, settings: AgentSettings) -> Mapping[str, str]:
    """The project secrets the agent's settings name, opened; only a command-line agent names
    any. A name the project has no secret for is left out: the agent says which is missing."""
    if not isinstance(settings, CliAgentSettings) or not settings.secrets:
        return {}
    async with current().database.read() as session:
        opened = await project_secrets.opened_secrets(session, project.id)
    return {name: opened[name] for name in settings.secrets if name in opened}


@DBOS.step(name="agent.resume")
async def resume(run_id: int, turn: int, prompt: str, note: str, kind: str) -> TurnMarker:
    """Send the next message (`kind`: a plan answer or a person's message); `note` is what
    the activity feed says about it."""
    run, _, agent = await _load(run_id)
    async with current().database.transaction() as session:
        await agent_runs.mark_running(session, run_id, turn=turn, message=note)
        await agent_runs.clear_plan_answer(session, run_id)
        await interactions.record_prompt(session, run_id, turn=turn, kind=kind, prompt=prompt)
    return await agent.resume(_job(run), prompt, request_id=_request_id(run_id, turn))


@DBOS.step(name="agent.request_fix")
async def request_fix(
    run_id: int, turn: int, validation_id: int, prompt: str, attempt: int
) -> TurnMarker:
    run, _, agent = await _load(run_id)
    async with current().database.transaction() as session:
        await agent_runs.request_fix(
            session,
            run_id,
            turn=turn,
            validation_id=validation_id,
            attempt=attempt,
            reason="Sent the validation's error context to the agent",
        )
        await interactions.record_prompt(
            session, run_id, turn=turn, kind="fix", prompt=prompt, validation_id=validation_id
        )
    return await agent.resume(_job(run), prompt, request_id=_request_id(run_id, turn))


@DBOS.step(name="agent.wait", preemptible=True)
async def wait_for_turn(run_id: int, marker: TurnMarker) -> TurnOutcome:
    """Poll the agent until the turn `marker` opened is over, recording its progress messages
    as they come."""
    runtime = current()
    run, project, agent = await _load(run_id)
    job = _job(run)
    interval = runtime.settings.agent_poll_interval_sec
    counted = time.monotonic()
    deadline = counted + runtime.settings.agent_turn_timeout_sec
    while True:
        state = await agent.poll(job, turn=marker, since=run.progress_cursor)
        async with runtime.database.transaction() as session:
            run = await agent_runs.record_agent_messages(
                session, run_id, messages=state.progress, cursor=state.cursor
            )
            # Counted as it goes, so a crash loses at most one poll's worth of the budget.
            now = time.monotonic()
            run = await agent_runs.add_agent_time(session, run_id, seconds=now - counted)
            counted = now
        if state.status is not AgentJobStatus.RUNNING:
            outcome = await _record_outcome(run, project, state)
            return await _answered(run, outcome, usage=state.usage)
        left = budgets.agent_seconds_left(project, run)
        if left is not None and left <= 0:
            await agent.cancel(job)
            spent = TurnOutcome(TurnKind.OVER_BUDGET, budgets.spent_words(project, run))
            return await _answered(run, spent)
        if time.monotonic() > deadline:
            late = TurnOutcome(TurnKind.FAILED, "the agent did not finish its turn in time")
            return await _answered(run, late)
        await asyncio.sleep(interval if left is None else max(0.0, min(interval, left)))
        interval = min(interval * 1.5, MAX_POLL_INTERVAL_SEC)


async def _answered(
    run: AgentRunRow, outcome: TurnOutcome, *, usage: AgentUsage | None = None
) -> TurnOutcome:
    """Keep the outcome, and what the turn used if the agent said, as the answer to the turn
    the run waits on (its latest)."""
    async with current().database.transaction() as session:
        await interactions.record_answer(
            session,
            run.id,
            turn=run.turns_requested,
            kind=outcome.kind.value,
            answer=outcome.text,
            pull_request_number=outcome.pr_number,
            usage=usage,
        )
    return outcome


@DBOS.step(name="agent.over_budget")
async def over_budget(run_id: int) -> str | None:
    """Why the run may not ask its agent for another turn (its minutes are spent), or None."""
    run, project, _ = await _load(run_id)
    left = budgets.agent_seconds_left(project, run)
    return budgets.spent_words(project, run) if left is not None and left <= 0 else None


async def _record_outcome(run: AgentRunRow, project: ProjectRow, state: AgentState) -> TurnOutcome:
    if state.status is AgentJobStatus.FAILED:
        return TurnOutcome(TurnKind.FAILED, state.error or "the agent reported a failure")
    if state.status is AgentJobStatus.CANCELLED:
        return TurnOutcome(TurnKind.CANCELLED, "the agent job was cancelled")
    if state.plan is not None:
        async with current().database.transaction() as session:
            await agent_runs.wait_for_plan_answer(session, run.id, plan=state.plan)
        return TurnOutcome(TurnKind.PLAN, state.plan)
    if state.pull_request is None:
        async with current().database.transaction() as session:
            await agent_runs.record_reply(
                session, run.id, response_type=ResponseType.REGULAR, text=state.reply
            )
        return TurnOutcome(TurnKind.REPLY, state.reply)
    ref = state.pull_request
    if ref.repository is not None and ref.repository.lower() != project.repository.lower():
        text = f"the agent opened {ref.url}, which is not in {project.repository}"
        return TurnOutcome(TurnKind.FAILED, text)
    # The head validated is the forge's, never one the agent named.
    forge = current().drivers.forge(projects.forge_of(project))
    change = await forge.get_change_request(project.repository, ref.number)
    if change is None or change.state is not ChangeState.OPEN:
        where = "does not exist" if change is None else f"is {change.state.value}"
        text = f"the agent named pull request #{ref.number} of {project.repository}, which {where}"
        return TurnOutcome(TurnKind.FAILED, text)
    async with current().database.transaction() as session:
        pr = await pull_requests.record_pull_request(
            session,
            project_id=project.id,
            agent_run_id=run.id,
            number=change.number,
            url=change.url,
            title=change.title or run.goal.splitlines()[0][:200],
            branch=change.head_branch,
            base_branch=change.base_branch,
            head_sha=change.head_sha,
        )
        text = state.reply or f"Opened pull request #{change.number}"
        await agent_runs.record_reply(session, run.id, response_type=ResponseType.PR, text=text)
    return TurnOutcome(TurnKind.PULL_REQUEST, text, pr.id, change.head_sha, change.number)
