"""An agent run's interactions: per turn, the prompt we sent and the answer we got."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries.paging import page
from codegenapp.db.tables import AgentInteractionRow, utcnow
from codegenapp.domain.agent_usage import AgentUsage, UsageTotals


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
    usage: AgentUsage | None = None,
) -> None:
    """How the agent answered turn `turn`, and what it used if it said; the first answer
    stands. A turn without a stored prompt (started before interactions were kept) keeps no
    answer either."""
    row = await _turn(session, run_id, turn)
    if row is None or row.answer_kind is not None:
        return
    row.answer_kind, row.answer = kind, answer
    row.pull_request_number = pull_request_number
    row.answered_at = utcnow()
    if usage is not None:
        row.input_tokens, row.output_tokens = usage.input_tokens, usage.output_tokens
        row.cost_usd, row.usage_model = usage.cost_usd, usage.model


async def list_interactions(
    session: AsyncSession, run_id: int, *, limit: int, offset: int
) -> tuple[list[AgentInteractionRow], int]:
    query = (
        select(AgentInteractionRow)
        .where(AgentInteractionRow.agent_run_id == run_id)
        .order_by(AgentInteractionRow.turn)
    )
    return await page(session, query, limit=limit, offset=offset)


def usage_of(row: AgentInteractionRow) -> AgentUsage | None:
    """What the turn used, or None if its agent reported nothing."""
    usage = AgentUsage(
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        model=row.usage_model,
    )
    return None if usage == AgentUsage() else usage


async def usage_totals(session: AsyncSession, run_id: int) -> UsageTotals | None:
    """The run's usage summed over all its turns (not one page), or None if no turn reported
    any."""
    row = AgentInteractionRow
    reported = (
        row.input_tokens.is_not(None)
        | row.output_tokens.is_not(None)
        | row.cost_usd.is_not(None)
        | row.usage_model.is_not(None)
    )
    totals = (
        await session.execute(
            select(
                func.count(row.id).filter(reported),
                func.sum(row.input_tokens),
                func.sum(row.output_tokens),
                func.sum(row.cost_usd),
            ).where(row.agent_run_id == run_id)
        )
    ).one()
    turns, input_tokens, output_tokens, cost_usd = totals
    if not turns:
        return None
    return UsageTotals(
        turns=turns,
        input_tokens=None if input_tokens is None else int(input_tokens),
        output_tokens=None if output_tokens is None else int(output_tokens),
        cost_usd=None if cost_usd is None else float(cost_usd),
    )
