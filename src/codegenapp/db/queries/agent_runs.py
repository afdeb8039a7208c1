"""Agent runs: the one write path (every status change leaves its event), and reads."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.queries.paging import page
from codegenapp.db.tables import AgentRunRow
from codegenapp.domain.events import EventType, JsonValue
from codegenapp.domain.lifecycles import RUNS, RunMove, check_run_transition
from codegenapp.domain.states import AgentRunStatus, ResponseType
from codegenapp.errors import Conflict, NotFound

ACTIVE_STATUSES = (
    AgentRunStatus.PENDING,
    AgentRunStatus.RUNNING,
    AgentRunStatus.WAITING_INPUT,
    AgentRunStatus.VALIDATING,
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
