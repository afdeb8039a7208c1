"""An agent run's interactions: per turn, the prompt we sent and the answer we got."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries.paging import page
from codegenapp.db.tables import AgentInteractionRow, utcnow


async def _turn(session: AsyncSession, run_id: int, turn: int) -> AgentInteractionRow | None:
    return await session.scalar(
        select(AgentInteractionRow).where(
            AgentInteractionRow.agent_run_id == run_id, AgentInteractionRow.turn == turn
        )
    )


async def record_prompt(
    session: AsyncSession,
    run_id: int,
    *,
    turn: int,
    kind: str,
    prompt: str,
    validation_id: int | None = None,
) -> None:
    """What was sent as turn `turn`. Idempotent: a turn's prompt is written once (a repeated
    step sends the same one)."""
    if await _turn(session, run_id, turn) is not None:
        return
    session.add(
        AgentInteractionRow(
            agent_run_id=run_id,
            turn=turn,
            kind=kind,
            prompt=prompt,
            validation_id=validation_id,
        )
    )


async def record_answer(
    session: AsyncSession,
    run_id: int,
    *,
    turn: int,
    kind: str,
    answer: str,
    pull_request_number: int | None = None,
) -> None:
    """How the agent answered turn `turn`; the first answer stands. A turn without a stored
    prompt (started before interactions were kept) keeps no answer either."""
    row = await _turn(session, run_id, turn)
    if row is None or row.answer_kind is not None:
        return
    row.answer_kind, row.answer = kind, answer
    row.pull_request_number = pull_request_number
    row.answered_at = utcnow()


async def list_interactions(
    session: AsyncSession, run_id: int, *, limit: int, offset: int
) -> tuple[list[AgentInteractionRow], int]:
    query = (
        select(AgentInteractionRow)
        .where(AgentInteractionRow.agent_run_id == run_id)
        .order_by(AgentInteractionRow.turn)
    )
    return await page(session, query, limit=limit, offset=offset)
