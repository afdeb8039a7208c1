"""Agent runs: the one write path (every status change leaves its event), and reads."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.queries.paging import page
from codegenapp.db.tables import AgentRunRow, JsonDict
from codegenapp.domain.change_review import (
    MAX_FINDINGS_KEPT,
    HeadReview,
    drift_json,
    finding_json,
)
from codegenapp.domain.events import EventType, JsonValue
from codegenapp.domain.lifecycles import RUNS, RunMove, check_run_transition
from codegenapp.domain.plans import PlanDrift
from codegenapp.domain.states import AgentRunStatus, ResponseType
from codegenapp.errors import Conflict, NotFound

ACTIVE_STATUSES = (
    AgentRunStatus.PENDING,
    AgentRunStatus.RUNNING,
    AgentRunStatus.WAITING_INPUT,
    AgentRunStatus.WAITING_APPROVAL,
    AgentRunStatus.VALIDATING,
)
# A run in one of these checks its agent's pull request heads itself before validating them
# (`flows/change_guard.py`): a forge's webhook does not start their validations meanwhile.
CHECKS_ITS_HEADS = (
    AgentRunStatus.PENDING,
    AgentRunStatus.RUNNING,
    AgentRunStatus.WAITING_INPUT,
    AgentRunStatus.WAITING_APPROVAL,
)


async def create_run(session: AsyncSession, *, project_id: int, goal: str) -> AgentRunRow:
    run = AgentRunRow(project_id=project_id, goal=goal, status=RUNS.initial.value, branch="")
    session.add(run)
    await session.flush()
    run.branch = f"codegenapp/run-{run.id}"
    await _event(session, run, EventType.AGENT_RUN_STARTED, {"goal": goal})
    return run


async def get_run(session: AsyncSession, run_id: int) -> AgentRunRow | None:
    return await session.get(AgentRunRow, run_id)


async def require_run(session: AsyncSession, run_id: int) -> AgentRunRow:
    run = await get_run(session, run_id)
    if run is None:
        raise NotFound(f"agent run {run_id} does not exist")
    return run


async def list_runs(
    session: AsyncSession,
    *,
    project_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AgentRunRow], int]:
    query = select(AgentRunRow).order_by(AgentRunRow.id.desc())
    if project_id is not None:
        query = query.where(AgentRunRow.project_id == project_id)
    if status is not None:
        query = query.where(AgentRunRow.status == status)
    return await page(session, query, limit=limit, offset=offset)


async def run_of_pull_request(session: AsyncSession, pull_request_id: int) -> int | None:
    """The agent run that opened the pull request, if one of ours did."""
    return await session.scalar(
        select(AgentRunRow.id)
        .where(AgentRunRow.pull_request_id == pull_request_id)
        .order_by(AgentRunRow.id)
        .limit(1)
    )


async def run_checking_heads_of(
    session: AsyncSession, *, project_id: int, pull_request_id: int, branch: str
) -> AgentRunRow | None:
    """The run that checks this pull request's new heads itself (`CHECKS_ITS_HEADS`): the run
    that opened it, or the run whose own branch it is (its pull request may be opened on the
    forge before the run has read it)."""
    return await session.scalar(
        select(AgentRunRow)
        .where(
            AgentRunRow.project_id == project_id,
            (AgentRunRow.pull_request_id == pull_request_id) | (AgentRunRow.branch == branch),
            AgentRunRow.status.in_([status.value for status in CHECKS_ITS_HEADS]),
        )
        .order_by(AgentRunRow.id)
        .limit(1)
    )


async def run_start_times(
    session: AsyncSession, project_id: int, *, since: datetime
) -> list[datetime]:
    """When the project's runs created after `since` were created, oldest first."""
    rows = await session.scalars(
        select(AgentRunRow.created_at)
        .where(AgentRunRow.project_id == project_id, AgentRunRow.created_at > since)
        .order_by(AgentRunRow.created_at)
    )
    return list(rows)


async def add_agent_time(session: AsyncSession, run_id: int, *, seconds: float) -> AgentRunRow:
    """The agent worked `seconds` more on the run (one turn, or part of one)."""
    run = await require_run(session, run_id)
    run.agent_seconds = (run.agent_seconds or 0.0) + max(0.0, seconds)
    return run


async def has_active_runs(session: AsyncSession, project_id: int) -> bool:
    query = select(AgentRunRow.id).where(
        AgentRunRow.project_id == project_id,
        AgentRunRow.status.in_([status.value for status in ACTIVE_STATUSES]),
    )
    return (await session.scalar(query.limit(1))) is not None


async def _event(
    session: AsyncSession,
    run: AgentRunRow,
    type: EventType,
    data: dict[str, JsonValue],
    *,
    validation_id: int | None = None,
) -> None:
    """The run's event: every one names the run and the status it is now in."""
    await events.record(
        session,
        type,
        project_id=run.project_id,
        agent_run_id=run.id,
        validation_id=validation_id,
        data={"agent_run_id": run.id, "status": run.status, **data},
    )


async def _progress(session: AsyncSession, run: AgentRunRow, data: dict[str, JsonValue]) -> None:
    await _event(session, run, EventType.AGENT_RUN_PROGRESS, data)


def _is_over(run: AgentRunRow) -> bool:
    # A cancelled run stays cancelled even if its workflow was mid-step when it happened.
    return AgentRunStatus(run.status).is_final


def _move(run: AgentRunRow, new: AgentRunStatus, by: RunMove) -> None:
    """The one place a run's status changes; `InvalidTransition` if its life cycle forbids it."""
    run.status = check_run_transition(run.status, new, by=by, ident=run.id).value


async def mark_running(
    session: AsyncSession, run_id: int, *, turn: int, message: str
) -> AgentRunRow:
    """The agent works on turn `turn` (start, plan answer, continue). Idempotent per turn."""
    run = await require_run(session, run_id)
    if run.turns_requested >= turn or _is_over(run):
        return run
    _move(run, AgentRunStatus.RUNNING, RunMove.SEND)
    run.turns_requested = turn
    await _progress(session, run, {"message": message})
    return run


async def record_job(
    session: AsyncSession, run_id: int, *, driver: str, job_id: str, is_ai: bool
) -> AgentRunRow:
    run = await require_run(session, run_id)
    if run.agent_job_id == job_id:
        return run
    run.agent_driver, run.agent_job_id, run.agent_is_ai = driver, job_id, is_ai
    label = "an AI agent" if is_ai else "the scripted agent (not an AI)"
    await _progress(session, run, {"message": f"Started job {job_id} at {label}"})
    return run


async def record_agent_messages(
    session: AsyncSession, run_id: int, *, messages: Sequence[str], cursor: int
) -> AgentRunRow:
    """Progress messages the agent reported; `cursor` makes a repeated call a no-op."""
    run = await require_run(session, run_id)
    if cursor <= run.progress_cursor:
        return run
    fresh = list(messages)[-(cursor - run.progress_cursor) :]
    run.progress_cursor = cursor
    for message in fresh:
        await _progress(session, run, {"message": message})
    return run


async def record_reply(
    session: AsyncSession, run_id: int, *, response_type: ResponseType, text: str
) -> AgentRunRow:
    run = await require_run(session, run_id)
    run.response_type = response_type.value
    run.result = text
    return run


async def wait_for_plan_answer(session: AsyncSession, run_id: int, *, plan: str) -> AgentRunRow:
    run = await require_run(session, run_id)
    if _is_over(run) or (run.status == AgentRunStatus.WAITING_INPUT and run.plan == plan):
        return run
    _move(run, AgentRunStatus.WAITING_INPUT, RunMove.PLAN)
    run.response_type = ResponseType.PLAN.value
    run.plan = plan
    await _event(session, run, EventType.AGENT_RUN_PLAN_READY, {"plan": plan})
    return run


async def mark_validating(
    session: AsyncSession, run_id: int, *, pull_request_id: int
) -> AgentRunRow:
    run = await require_run(session, run_id)
    if _is_over(run) or (
        run.status == AgentRunStatus.VALIDATING and run.pull_request_id == pull_request_id
    ):
        return run
    _move(run, AgentRunStatus.VALIDATING, RunMove.VALIDATE)
    run.response_type = ResponseType.PR.value
    run.pull_request_id = pull_request_id
    await _progress(session, run, {"message": "Validating the pull request"})
    return run


async def request_fix(
    session: AsyncSession,
    run_id: int,
    *,
    turn: int,
    validation_id: int,
    attempt: int,
    reason: str,
) -> AgentRunRow:
    """The agent is asked to fix a failed validation, as turn `turn`. Idempotent per turn."""
    run = await require_run(session, run_id)
    if run.turns_requested >= turn or _is_over(run):
        return run
    _move(run, AgentRunStatus.RUNNING, RunMove.FIX)
    run.turns_requested = turn
    await _event(
        session,
        run,
        EventType.AGENT_RUN_FIX_REQUESTED,
        {"validation_id": validation_id, "attempt": attempt, "reason": reason},
        validation_id=validation_id,
    )
    return run


async def finish_run(
    session: AsyncSession, run_id: int, *, status: AgentRunStatus, result: str
) -> AgentRunRow:
    """End the run. Idempotent: a run already in a final state is left as it is (a person may
    have cancelled it while its workflow was finishing it)."""
    run = await require_run(session, run_id)
    if _is_over(run):
        return run
    _move(run, status, RunMove.FINISH)
    run.result = result
    await _event(session, run, EventType.AGENT_RUN_COMPLETED, {"result": result})
    return run


async def store_plan_answer(
    session: AsyncSession, run_id: int, *, action: str, text: str
) -> AgentRunRow:
    """Keep the person's answer to a plan; the waiting workflow picks it up from here.

    Raise `Conflict` unless the run waits for one, so a second click cannot answer twice.
    """
    run = await require_run(session, run_id)
    if run.status != AgentRunStatus.WAITING_INPUT or run.plan_answer is not None:
        raise Conflict(f"agent run {run_id} is {run.status}, not waiting for a plan answer")
    _move(run, AgentRunStatus.RUNNING, RunMove.ANSWER)
    run.plan_answer = {"action": action, "text": text}
    # What the pull request is held to: the plan, and the changes asked of it (the agent may
    # go ahead with them at once, without proposing the plan again).
    changes = f"\n\nChanges the person asked for:\n{text}" if action == "modify" else ""
    run.confirmed_plan = f"{run.plan or ''}{changes}"
    message = "Plan confirmed" if action == "confirm" else f"Plan changes requested: {text}"
    await _progress(session, run, {"message": message})
    return run


async def clear_plan_answer(session: AsyncSession, run_id: int) -> None:
    run = await require_run(session, run_id)
    run.plan_answer = None


async def begin_segment(session: AsyncSession, run_id: int, *, message: str) -> AgentRunRow:
    """A finished run continues: its status goes back to pending under a new segment number,
    which names the workflow that carries the continuation. Raise `InvalidTransition` (a
    `Conflict`) unless the run is completed or failed."""
    run = await require_run(session, run_id)
    _move(run, AgentRunStatus.PENDING, RunMove.CONTINUE)
    run.segment += 1
    run.next_message = message
    await _progress(session, run, {"message": "Continuing the run"})
    return run


async def complete_after_retry(session: AsyncSession, run_id: int, *, result: str) -> AgentRunRow:
    """A person's retry or merge of the ended run's validation passed: the run completes (from
    failed, or again from completed) with `result`. Idempotent: the same result twice writes
    nothing. Raise `InvalidTransition` for a run that has not ended or was cancelled."""
    run = await require_run(session, run_id)
    if run.status == AgentRunStatus.COMPLETED and run.result == result:
        return run
    _move(run, AgentRunStatus.COMPLETED, RunMove.RETRY)
    run.result = result
    await _event(session, run, EventType.AGENT_RUN_COMPLETED, {"result": result})
    return run


def approved_head(run: AgentRunRow) -> str | None:
    """The head a person approved last in this run: later heads are read for bent gates
    since that one, not since the base branch."""
    approved = (run.held_change or {}).get("approved_head")
    return approved if isinstance(approved, str) else None


async def hold_change(
    session: AsyncSession, run_id: int, *, pr_number: int, review: HeadReview
) -> bool:
    """Hold the run for a person if `review` found the gate bent (or could not read it): the
    run waits for approval, the findings with their hunks kept on it, `agent_run_change_held`
    naming their kinds and paths. True if the run waits. Idempotent: the same head held again
    writes nothing."""
    run = await require_run(session, run_id)
    if _is_over(run) or not review.holds:
        return False
    held = run.held_change or {}
    if run.status == AgentRunStatus.WAITING_APPROVAL and held.get("head_sha") == review.head_sha:
        return True
    _move(run, AgentRunStatus.WAITING_APPROVAL, RunMove.HOLD)
    kept = review.findings[:MAX_FINDINGS_KEPT]
    omitted = len(review.findings) - len(kept)
    findings: list[JsonValue] = [finding_json(finding) for finding in kept]
    run.held_change = {
        "head_sha": review.head_sha,
        "pr_number": pr_number,
        "since": review.since,
        "findings": findings,
        "omitted": omitted,
        "unchecked": review.unchecked,
        "approved": False,
        "approved_head": approved_head(run),
    }
    named: list[JsonValue] = [{"kind": f.kind.value, "path": f.path} for f in kept]
    await _event(
        session,
        run,
        EventType.AGENT_RUN_CHANGE_HELD,
        {
            "pr_number": pr_number,
            "head_sha": review.head_sha,
            "since": review.since,
            "findings": named,
            "omitted": omitted,
            "unchecked": review.unchecked,
        },
    )
    return True


async def approve_change(session: AsyncSession, run_id: int) -> AgentRunRow:
    """A person approves the held change: later heads are read since this one, and the run
    goes on (its workflow validates this head). Raise `Conflict` unless the run waits for an
    approval, so a second click cannot approve twice."""
    run = await require_run(session, run_id)
    held = run.held_change
    if run.status != AgentRunStatus.WAITING_APPROVAL or held is None:
        raise Conflict(f"agent run {run_id} is {run.status}, not waiting for a change's approval")
    _move(run, AgentRunStatus.RUNNING, RunMove.APPROVE)
    run.held_change = {**held, "approved": True, "approved_head": held.get("head_sha")}
    await _event(
        session,
        run,
        EventType.AGENT_RUN_CHANGE_APPROVED,
        {"pr_number": held.get("pr_number"), "head_sha": held.get("head_sha")},
    )
    return run


def is_approved(run: AgentRunRow, head_sha: str) -> bool:
    """Whether the run no longer waits on the change held at `head_sha`."""
    held: JsonDict = run.held_change or {}
    waiting = run.status == AgentRunStatus.WAITING_APPROVAL and held.get("head_sha") == head_sha
    return not waiting


async def record_plan_drift(
    session: AsyncSession, run_id: int, *, pr_number: int, head_sha: str, drift: PlanDrift
) -> bool:
    """Keep how the pull request at `head_sha` kept to the confirmed plan; a head that strays
    leaves `agent_run_plan_strayed` naming the paths the plan did not. True when the pull
    request's plan note is to be written: it strays now, or strayed at an earlier head.
    Idempotent per head."""
    run = await require_run(session, run_id)
    before = run.plan_drift
    if before is not None and before.get("head_sha") == head_sha:
        return False
    run.plan_drift = {"head_sha": head_sha, "pr_number": pr_number, **drift_json(drift)}
    if drift.strays:
        await _event(
            session,
            run,
            EventType.AGENT_RUN_PLAN_STRAYED,
            {"pr_number": pr_number, "head_sha": head_sha, **drift_json(drift)},
        )
    return drift.strays or bool(before and before.get("strays"))
