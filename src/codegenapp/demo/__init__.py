"""The demo: a small git repository, an agent, and one goal run end to end.

The agent is not an AI: by default the scripted stand-in (it replays `recipe.yaml`); with
`--agent cli`, a small script (`agent.py`) run as a command-line agent in the sandbox, whose
changes CodegenApp commits. The demo shows CodegenApp's flow, not a model's skill.
"""

import asyncio
import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codegenapp.db.queries import agent_runs, projects, pull_requests, validations
from codegenapp.domain.agent_settings import (
    AgentSettings,
    CliAgentSettings,
    ScriptedAgentSettings,
)
from codegenapp.domain.events import EventType, JsonValue
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import AgentRunStatus, CheckName
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime

PROJECT_NAME = "demo"
DemoAgent = Literal["scripted", "cli"]
GOAL = "Add a /health endpoint that reports the app's status and version"
RUN_TIMEOUT_SEC = 600.0
_HERE = Path(__file__).parent

DEMO_SETTINGS = ProjectSettings(
    deployment_settings=DeploymentSettings(
        build_command="python3 -m py_compile app.py",
        deploy_command="python3 app.py",
        health_check_url="/health",
        port=8080,
    ),
    validation_settings=ValidationSettings(
        auto_merge=True,
        required_checks=[
            CheckName.BUILD,
            CheckName.TEST,
            CheckName.SECURITY,
            CheckName.HEALTH,
            CheckName.WEB_EVAL,
        ],
        max_retries=2,
        timeout_minutes=5,
        test_command="python3 -m unittest -v",
        # A real, if small, audit: no credentials written into the code.
        security_command=(
            "! grep -rnIiE '(api_key|password|secret)[[:space:]]*=[[:space:]]*[\"'\\'']' "
            "--include='*.py' ."
        ),
        # The system Chromium opens both pages of the preview: an error there fails the step.
        web_eval=WebEvalSettings(pages=["/", "/health"]),
    ),
)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=CodegenApp demo",
            "-c",
            "user.email=demo@codegenapp.invalid",
            *args,
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def make_repository(home: Path) -> Path:
    """A fresh demo repository (non-bare, `main` checked out) under the home's `demo/`, one of
    the default repository roots."""
    demo = home / "demo"
    repo = demo / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    for source in (_HERE / "repo").iterdir():
        if source.is_file():
            shutil.copy(source, repo / source.name)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "The demo app")
    return repo


def recipe() -> str:
    """The scripted agent's recipe for the demo goal, shipped with the package."""
    return (_HERE / "recipe.yaml").read_text(encoding="utf-8")


def agent_settings(agent: DemoAgent) -> AgentSettings:
    """The demo's agent. The command-line one is `agent.py`, handed to python3 whole on its
    command line, so that any sandbox with python3 runs it (no path of ours needs to be seen
    inside)."""
    if agent == "scripted":
        return ScriptedAgentSettings(provider="scripted", recipe=recipe())
    source = (_HERE / "agent.py").read_text(encoding="utf-8")
    return CliAgentSettings(
        provider="cli",
        command=f"python3 -I -c {shlex.quote(source)}",
        plan_first=True,
        timeout_minutes=5,
    )


async def _remove_previous(runtime: Runtime) -> None:
    async with runtime.database.read() as session:
        rows, _ = await projects.list_projects(session, limit=200)
        previous = next((row for row in rows if row.name == PROJECT_NAME), None)
        active: list[int] = []
        if previous is not None:
            runs, _ = await agent_runs.list_runs(session, project_id=previous.id, limit=200)
            active = [run.id for run in runs if not AgentRunStatus(run.status).is_final]
    for run_id in active:
        await actions.cancel_run(run_id)
    if previous is not None:
        await project_flows.delete_project(previous.id)


async def start(runtime: Runtime, *, agent: DemoAgent = "scripted") -> int:
    """Set up the demo project afresh and start its goal; returns the agent run's id."""
    repo = make_repository(runtime.settings.home)
    await _remove_previous(runtime)
    project = await project_flows.create_project(
        name=PROJECT_NAME,
        repository=str(repo),
        default_branch="main",
        agent=agent_settings(agent),
        settings=DEMO_SETTINGS,
    )
    run = await actions.start_run(project_id=project.id, goal=GOAL)
    return run.id


async def run_until_done(runtime: Runtime, run_id: int) -> None:
    """Wait for the run to end, confirming its plan as the person would (the demo's terminal
    shows the run in the CLI's live view, over the API; nothing is printed here)."""
    async with runtime.bus.subscribe() as live:
        async with runtime.database.read() as session:
            status = AgentRunStatus((await agent_runs.require_run(session, run_id)).status)
        if status.is_final:
            return
        if status is AgentRunStatus.WAITING_INPUT:
            await actions.answer_plan(run_id, action="confirm", text="")
        async for event in live:
            if event.id is None:
                continue
            if event.type is EventType.AGENT_RUN_PLAN_READY:
                await actions.answer_plan(run_id, action="confirm", text="")
            if (
                event.type is EventType.AGENT_RUN_COMPLETED
                and event.data.get("agent_run_id") == run_id
            ):
                return


@dataclass(frozen=True, slots=True)
class Summary:
    report: dict[str, JsonValue]
    merged: bool


async def summarize(runtime: Runtime, run_id: int) -> Summary:
    async with runtime.database.read() as session:
        run = await agent_runs.require_run(session, run_id)
        pr = await pull_requests.get_pull_request(session, run.pull_request_id or 0)
        rows, _ = await validations.list_validations(session, agent_run_id=run_id, limit=200)
    attempts: list[JsonValue] = [
        {
            "id": row.id,
            "attempt": row.attempt,
            "head_sha": row.head_sha,
            "status": row.status,
            "failed_step": row.failed_step,
            "reason": row.reason,
            "merged": row.merged,
        }
        for row in sorted(rows, key=lambda row: row.attempt)
    ]
    pull_request: JsonValue = None
    if pr is not None:
        pull_request = {
            "number": pr.number,
            "url": pr.url,
            "branch": pr.branch,
            "head_sha": pr.head_sha,
            "merge_sha": pr.merge_sha,
            "merged": pr.merged,
        }
    merged = bool(pr and pr.merged)
    report: dict[str, JsonValue] = {
        "agent_run": {
            "id": run.id,
            "status": run.status,
            "result": run.result,
            "agent": run.agent_driver,
            "agent_is_ai": run.agent_is_ai,
        },
        "pull_request": pull_request,
        "validations": attempts,
        "merged": merged,
    }
    return Summary(report=report, merged=merged)


async def run_to_end(
    runtime: Runtime, *, agent: DemoAgent = "scripted", timeout: float = RUN_TIMEOUT_SEC
) -> Summary:
    run_id = await start(runtime, agent=agent)
    await asyncio.wait_for(run_until_done(runtime, run_id), timeout)
    return await summarize(runtime, run_id)


def to_json(summary: Summary) -> str:
    return json.dumps(summary.report, indent=2)
