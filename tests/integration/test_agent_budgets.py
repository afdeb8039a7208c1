"""A project's agent budgets: runs per day refused past the limit (429, when the next may
start), minutes per run counted while the agent works and its turn cancelled past them."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory, nothing_left, processes_naming
from tests.support.cli_agents import write_agents
from tests.support.projects import APP, make_repository
from tests.support.waiting import run_settled

from codegenapp.db.queries import agent_runs
from codegenapp.domain.agent_settings import AgentBudgets, CliAgentSettings
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import AgentRunStatus
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime
from codegenapp.main import running

REPLY = "turns:\n  - reply: Nothing to change.\n"


async def test_runs_past_the_daily_budget_are_refused_with_when_the_next_may_start(
    server: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    agent = {"provider": "scripted", "recipe": REPLY, "budgets": {"runs_per_day": 2}}
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        created = await client.post(
            "/api/v1/projects", json={"name": "app", "repository": str(repo), "agent": agent}
        )
        assert created.status_code == 201, created.text
        assert created.json()["agent"]["budgets"] == {"runs_per_day": 2, "minutes_per_run": None}
        goal = {"project_id": created.json()["id"], "goal": "Say hello"}
        started = [await client.post("/api/v1/agent-runs", json=goal) for _ in range(2)]
        refused = await client.post("/api/v1/agent-runs", json=goal)
        listed = await client.get("/api/v1/agent-runs", params={"project_id": goal["project_id"]})

    assert [answer.status_code for answer in started] == [201, 201]
    assert refused.status_code == 429, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("agent.budgets.runs_per_day: project 'app' started 2 agent runs")
    assert "its budget is 2; the next can start at" in detail
    assert 86_000 < int(refused.headers["Retry-After"]) <= 86_400
    assert listed.json()["total"] == 2  # nothing half-made


@pytest.mark.parametrize(
    ("budgets", "words"),
    [
        ({"runs_per_day": 0}, "runs_per_day: Input should be greater than or equal to 1"),
        ({"minutes_per_run": 0}, "minutes_per_run: Input should be greater than or equal to 0.1"),
        ({"tokens": 5}, "tokens: Extra inputs are not permitted"),
    ],
)
async def test_bad_budgets_get_a_422_naming_the_field(
    server: Server, tmp_path: Path, budgets: dict[str, object], words: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    agent = {"provider": "scripted", "recipe": REPLY, "budgets": budgets}
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        answer = await client.post(
            "/api/v1/projects", json={"name": "app", "repository": str(repo), "agent": agent}
        )

    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == f"agent.budgets.{words}"


@pytest.fixture
async def backend(make_settings: SettingsFactory, tmp_path: Path) -> AsyncIterator[Runtime]:
    agents = write_agents(tmp_path / "agents")
    settings = make_settings(sandbox="bubblewrap", sandbox_tools=str(agents))
    async with running(settings) as runtime:
        yield runtime
    await nothing_left(settings.home)


async def test_an_agent_past_its_minutes_is_stopped_and_the_run_fails_saying_so(
    backend: Runtime, tmp_path: Path
) -> None:
    agents = tmp_path / "agents"
    repo = make_repository(tmp_path / "repo.git", {"app.py": APP}, bare=True)
    agent = CliAgentSettings(
        provider="cli",
        command=f"python3 {agents}/hang.py",
        budgets=AgentBudgets(minutes_per_run=0.1),
    )
    project = await project_flows.create_project(
        name="app",
        repository=str(repo),
        default_branch="main",
        agent=agent,
        settings=ProjectSettings(),
    )

    run = await actions.start_run(project_id=project.id, goal="Think forever")
    run = await run_settled(backend, run.id, timeout=120)

    assert run.status == AgentRunStatus.FAILED
    assert (run.result or "").startswith("Over budget: the agent worked 0.1 minutes on this run")
    assert "the project allows 0.1 (agent.budgets.minutes_per_run)" in (run.result or "")
    async with backend.database.read() as session:
        stored = await agent_runs.require_run(session, run.id)
    assert 6 <= stored.agent_seconds < 30
    assert processes_naming(backend.settings.work_dir) == []  # the command was killed
