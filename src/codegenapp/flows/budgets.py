"""A project's agent budgets (`agent.budgets`): runs per day, checked when a run is started;
minutes per run, counted and checked while the agent works. Fix attempts per run are
`validation_settings.max_retries` (the fix loop's own limit)."""

import math
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import agent_runs, projects
from codegenapp.db.tables import AgentRunRow, ProjectRow, utcnow
from codegenapp.errors import OverBudget

DAY = timedelta(days=1)
RUNS_FIELD = "agent.budgets.runs_per_day"
MINUTES_FIELD = "agent.budgets.minutes_per_run"


async def refuse_run_over_budget(session: AsyncSession, project: ProjectRow) -> None:
    """Raise `OverBudget` if the project started as many runs in the last 24 hours as its
    budget allows. The caller holds the project's row lock, so two starts cannot both take
    the last one."""
    limit = projects.agent_settings_of(project).budgets.runs_per_day
    if limit is None:
        return
    now = utcnow()
    started = await agent_runs.run_start_times(session, project.id, since=now - DAY)
    if len(started) < limit:
        return
    free_at = started[-limit] + DAY  # when enough of them are a day old for one more
    raise OverBudget(
        RUNS_FIELD,
        f"project {project.name!r} started {len(started)} agent runs in the last 24 hours and "
        f"its budget is {limit}; the next can start at {free_at:%Y-%m-%d %H:%M:%S} UTC",
        retry_after=max(1, math.ceil((free_at - now).total_seconds())),
    )


def agent_seconds_left(project: ProjectRow, run: AgentRunRow) -> float | None:
    """How long the agent may still work on the run; None without a limit."""
    minutes = projects.agent_settings_of(project).budgets.minutes_per_run
    if minutes is None:
        return None
    return minutes * 60 - (run.agent_seconds or 0.0)


def spent_words(project: ProjectRow, run: AgentRunRow) -> str:
    """The run's reason for ending over its minutes budget."""
    minutes = projects.agent_settings_of(project).budgets.minutes_per_run
    worked = (run.agent_seconds or 0.0) / 60
    return (
        f"Over budget: the agent worked {worked:.1f} minutes on this run and the project "
        f"allows {minutes:g} ({MINUTES_FIELD})."
    )
