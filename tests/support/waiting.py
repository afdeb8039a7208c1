"""Waiting on the system's own events, never on the clock."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from codegenapp.db.queries import agent_runs, validations
from codegenapp.db.tables import AgentRunRow, ValidationRow
from codegenapp.domain.states import AgentRunStatus, ValidationStatus
from codegenapp.flows.runtime import Runtime

T = TypeVar("T")


async def until(
    runtime: Runtime, check: Callable[[], Awaitable[T | None]], *, timeout: float = 60
) -> T:
    """Re-check after every event on the bus until `check` returns something (not None)."""

    async def wait() -> T:
        async with runtime.bus.subscribe() as live:
            result = await check()
            if result is not None:
                return result
            async for _ in live:
                result = await check()
                if result is not None:
                    return result
        raise AssertionError("the event stream ended")

    return await asyncio.wait_for(wait(), timeout)


async def run_in(
    runtime: Runtime, run_id: int, *statuses: AgentRunStatus, timeout: float = 60
) -> AgentRunRow:
    async def check() -> AgentRunRow | None:
        async with runtime.database.read() as session:
            run = await agent_runs.require_run(session, run_id)
        return run if AgentRunStatus(run.status) in statuses else None

    return await until(runtime, check, timeout=timeout)


async def run_settled(runtime: Runtime, run_id: int, *, timeout: float = 90) -> AgentRunRow:
    """The run once it is completed, failed or cancelled."""
    final = [status for status in AgentRunStatus if status.is_final]
    return await run_in(runtime, run_id, *final, timeout=timeout)


async def validation_in(
    runtime: Runtime, validation_id: int, *statuses: ValidationStatus, timeout: float = 60
) -> ValidationRow:
    async def check() -> ValidationRow | None:
        async with runtime.database.read() as session:
            row = await validations.require_validation(session, validation_id)
        return row if ValidationStatus(row.status) in statuses else None

    return await until(runtime, check, timeout=timeout)
