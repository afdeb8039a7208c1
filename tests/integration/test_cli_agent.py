"""Command-line agents: small real scripts run as the agent in a real sandbox, their changes
committed by CodegenApp, validated and merged through the real flow.

Only loopback is ever contacted: a host that is not allowed is proved refused by the egress
proxy's own refusal (it refuses by name, before any lookup or connection)."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory, nothing_left, processes_naming, serve
from tests.fakes.github import FakeGitHub
from tests.support.cli_agents import (
    FAILING_CHECK,
    PASSING_CHECK,
    bubblewrap,
    cli_agent,
    cli_task,
    write_agents,
)
from tests.support.github import REPO, serve_on
from tests.support.projects import APP, git, make_repository, merges_on
from tests.support.waiting import run_in, run_settled, until

from codegenapp.db.queries import events, interactions, pull_requests, validations
from codegenapp.domain.agent_settings import CliAgentSettings
from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.domain.events import EventType
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import AgentRunStatus, CheckName, StepName
from codegenapp.drivers.agent import FIRST_TURN, AgentJob, AgentJobStatus
from codegenapp.drivers.agent.cli import STOPPED
from codegenapp.flows import actions, project_secrets
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime
from codegenapp.main import running

SERVICE = ProjectSettings(
    deployment_settings=DeploymentSettings(
        build_command="python3 -m py_compile app.py",
        deploy_command="python3 app.py",
        health_check_url="/health",
        port=9000,
    ),
    validation_settings=ValidationSettings(
        required_checks=[CheckName.BUILD, CheckName.TEST, CheckName.HEALTH],
        test_command="python3 check.py",
        max_retries=2,
        validate_base_branch=False,
    ),
)


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    return write_agents(tmp_path / "agents")


@pytest.fixture(params=["bubblewrap", "process"])
async def backend_on(
    request: pytest.FixtureRequest, make_settings: SettingsFactory, agents: Path
) -> AsyncIterator[Runtime]:
    """The back end with each sandbox this machine runs as its default; the agent scripts are
    where a bubblewrap sandbox sees them."""
    settings = make_settings(sandbox=request.param, sandbox_tools=str(agents))
    async with running(settings) as runtime:
        yield runtime
    await nothing_left(settings.home)


@pytest.fixture
async def backend(make_settings: SettingsFactory, agents: Path) -> AsyncIterator[Runtime]:
    settings = make_settings(sandbox="bubblewrap", sandbox_tools=str(agents))
    async with running(settings) as runtime:
        yield runtime
    await nothing_left(settings.home)


async def _project(
    tmp_path: Path, agent: CliAgentSettings, *, settings: ProjectSettings = SERVICE
) -> tuple[int, Path]:
    repo = make_repository(
        tmp_path / "repo.git", {"app.py": APP, "check.py": PASSING_CHECK}, bare=True
    )
    project = await project_flows.create_project(
        name=f"project-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=agent,
        settings=settings,
    )
    return project.id, repo


async def _progress(runtime: Runtime, run_id: int) -> list[str]:
    async with runtime.database.read() as session:
        rows = await events.list_events(session, agent_run_id=run_id, limit=5000)
    return [
        str(row.data.get("message"))
        for row in rows
        if row.type == EventType.AGENT_RUN_PROGRESS.value and row.data.get("message")
    ]


async def test_a_script_edits_a_file_as_the_prompt_asks_and_its_pull_request_is_fixed_and_merged(
    backend_on: Runtime, tmp_path: Path, agents: Path
) -> None:
    agent = CliAgentSettings(provider="cli", command=f"python3 {agents}/edit.py {{prompt}}")
    project_id, repo = await _project(tmp_path, agent)
    failing = FAILING_CHECK.replace("\n", "\\n")
    goal = f"Make the check fail\n\nWrite check.py: {failing}\nWrite NOTES.md: notes\\n"

    run = await actions.start_run(project_id=project_id, goal=goal)
    run = await run_settled(backend_on, run.id, timeout=180)

    assert run.status == AgentRunStatus.COMPLETED, run.result
    async with backend_on.database.read() as session:
        rows, _ = await validations.list_validations(session, agent_run_id=run.id)
        pr = await pull_requests.require_pull_request(session, run.pull_request_id or 0)
    assert sorted((row.attempt, row.status, row.failed_step) for row in rows) == [
        (1, "failed", StepName.DEPLOY.value),
        (2, "passed", None),
    ]
    assert pr.merged
    assert merges_on(repo) == [pr.merge_sha]
    assert git(repo, "show", f"{pr.merge_sha}:check.py") + "\n" == PASSING_CHECK
    assert git(repo, "show", f"{pr.merge_sha}:NOTES.md") == "notes"
    first, second = git(repo, "rev-list", "--reverse", f"{pr.merge_sha}^1..{pr.head_sha}").split()
    assert git(repo, "show", f"{first}:check.py") + "\n" == FAILING_CHECK
    assert git(repo, "log", "-1", "--format=%an|%s", first) == (
        "Command-line agent (CodegenApp)|Make the check fail"
    )
    assert git(repo, "rev-parse", f"{second}^") == first
    said = await _progress(backend_on, run.id)
    assert "wrote check.py" in said
    assert "fixing check.py: the prompt says AssertionError: 2 != 3" in said
    assert any(line.startswith("[cli agent] committed ") for line in said)


async def test_an_agent_that_is_not_native_to_github_gets_its_pull_request_opened_and_merged_there(
    make_settings: SettingsFactory, agents: Path, tmp_path: Path
) -> None:
    async with FakeGitHub(tmp_path) as github:
        await github.create_repository(REPO, files={"app.py": APP})
        async for server in serve_on(
            make_settings, github, sandbox="bubblewrap", sandbox_tools=str(agents)
        ):
            body = {
                "name": "app",
                "forge": "github",
                "repository": REPO,
                "agent": {"provider": "cli", "command": f"python3 {agents}/edit.py {{prompt}}"},
                "deployment_settings": {"build_command": "test -f NOTES.md"},
                "validation_settings": {
                    "required_checks": ["build"],
                    "validate_base_branch": False,
                },
            }
            async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
                created = await client.post("/api/v1/projects", json=body)
                assert created.status_code == 201, created.text
                goal = {
                    "project_id": created.json()["id"],
                    "goal": "Add notes\n\nWrite NOTES.md: n",
                }
                run = (await client.post("/api/v1/agent-runs", json=goal)).json()

            ended = await run_settled(server.runtime, run["id"], timeout=120)
            assert ended.status == AgentRunStatus.COMPLETED, ended.result
            (merged,) = github.merges
            pr = github.pull_request(REPO, merged.number)
            assert pr.head_ref == ended.branch
            assert await github.branch_sha(REPO, "main") == pr.merge_commit_sha
            await github.deliveries_sent()


async def test_a_command_that_fails_fails_the_run_with_the_end_of_its_output(
    backend: Runtime, tmp_path: Path, agents: Path
) -> None:
    agent = CliAgentSettings(provider="cli", command=f"python3 {agents}/fail.py")
    project_id, repo = await _project(tmp_path, agent)

    run = await actions.start_run(project_id=project_id, goal="Do something")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.FAILED
    result = run.result or ""
    assert "the command exited with code 3" in result
    assert result.rstrip().endswith("Error: the model refused the request (quota exceeded)")
    assert "working on step 30" in result
    assert run.pull_request_id is None
    assert git(repo, "branch", "--list", "codegenapp/*") == ""


async def test_a_command_that_outlives_its_timeout_is_killed_and_the_run_fails_as_timed_out(
    backend: Runtime, tmp_path: Path, agents: Path
) -> None:
    agent = CliAgentSettings(
        provider="cli", command=f"python3 {agents}/hang.py", timeout_minutes=0.05
    )
    project_id, _ = await _project(tmp_path, agent)

    run = await actions.start_run(project_id=project_id, goal="Think forever")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.FAILED
    assert "timed out: the command ran 0.05 minutes and was killed" in (run.result or "")
    assert "thinking..." in await _progress(backend, run.id)
    assert processes_naming(backend.settings.work_dir) == []
    assert list(backend.settings.work_dir.iterdir()) == []  # the sandbox is gone


async def test_cancelling_the_run_kills_the_command_and_destroys_its_sandbox(
    backend: Runtime, tmp_path: Path, agents: Path
) -> None:
    agent = CliAgentSettings(provider="cli", command=f"python3 {agents}/hang.py")
    project_id, _ = await _project(tmp_path, agent)
    run = await actions.start_run(project_id=project_id, goal="Think forever")

    async def thinking() -> bool | None:
        return True if "thinking..." in await _progress(backend, run.id) else None

    await until(backend, thinking)
    assert processes_naming(backend.settings.work_dir) != []
    await actions.cancel_run(run.id)

    assert processes_naming(backend.settings.work_dir) == []
    assert list(backend.settings.work_dir.iterdir()) == []


async def test_an_agent_gets_only_the_secrets_it_was_granted_and_reaches_no_host_not_allowed(
    backend: Runtime, tmp_path: Path, agents: Path
) -> None:
    listener_connections = 0

    async def count(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal listener_connections
        listener_connections += 1
        writer.close()

    listener = await asyncio.start_server(count, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    home = backend.settings.home
    targets = [
        "https://blocked.example.org/",  # not allowed: the proxy refuses it by name
        f"127.0.0.1:{port}",  # a service of the host's (our API, Redis, the database...)
        str(home / "secret-key"),  # the server's own files
        str(home / "codegenapp.sqlite"),
    ]
    agent = CliAgentSettings(
        provider="cli",
        command=f"python3 {agents}/snoop.py " + " ".join(targets),
        secrets=["GRANTED_TOKEN"],
        allowed_hosts=["api.example.com"],
    )
    project_id, _ = await _project(tmp_path, agent)
    await project_secrets.set_secret(project_id, name="GRANTED_TOKEN", value="granted-s3cret-value")
    await project_secrets.set_secret(project_id, name="HIDDEN_TOKEN", value="hidden-s3cret-value")

    async with listener:
        run = await actions.start_run(project_id=project_id, goal="Look around")
        run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.COMPLETED, run.result
    said = run.result or ""
    assert "granted: ***" in said  # it had the secret; every log shows it masked
    assert "hidden: None" in said
    names = set(said.split("env: ")[1].splitlines()[0].split())
    ours = {"CODEGENAPP_PROMPT", "CODEGENAPP_PLAN_ONLY", "CODEGENAPP_USAGE", "GRANTED_TOKEN"}
    sandbox = {
        "PATH",
        "PWD",  # the shell that runs the command sets it
        "HOME",
        "LANG",
        "CI",
        *(f"GIT_{who}_{what}" for who in ("AUTHOR", "COMMITTER") for what in ("NAME", "EMAIL")),
    }
    proxy = {
        f"{name}_{case}"
        for name in ("HTTP", "HTTPS", "NO", "http", "https", "no")
        for case in ("PROXY", "proxy")
    }
    assert ours <= names <= ours | sandbox | proxy, names
    assert "could not reach https://blocked.example.org/" in said
    assert "egress proxy refused blocked.example.org:443 (not an allowed host)" in said
    assert f"could not connect to 127.0.0.1:{port}" in said
    assert listener_connections == 0
    assert f"could not read {home / 'secret-key'}" in said
    assert f"could not read {home / 'codegenapp.sqlite'}" in said
    everything = " ".join([said, *await _progress(backend, run.id)])
    assert "granted-s3cret-value" not in everything
    assert "hidden-s3cret-value" not in everything
    job_files = list((backend.settings.state_dir / "agents" / "cli" / "jobs").glob("*.json"))
    assert job_files
    assert all(b"granted-s3cret-value" not in path.read_bytes() for path in job_files)


async def test_plan_first_makes_a_plan_that_waits_for_a_persons_answer_before_any_change(
    backend: Runtime, tmp_path: Path, agents: Path
) -> None:
    agent = CliAgentSettings(
        provider="cli", command=f"python3 {agents}/planner.py", plan_first=True
    )
    project_id, repo = await _project(tmp_path, agent)
    run = await actions.start_run(project_id=project_id, goal="Add a /version route")

    waiting = await run_in(backend, run.id, AgentRunStatus.WAITING_INPUT)
    assert waiting.plan == "1. Read app.py\n2. Add a /version route"
    assert git(repo, "branch", "--list", "codegenapp/*") == ""  # what the pass wrote is dropped

    await actions.answer_plan(run.id, action="confirm", text="")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.COMPLETED, run.result
    assert run.result == "Told: The plan is confirmed. Go ahead and implement it."
    assert git(repo, "branch", "--list", "codegenapp/*") == ""


async def test_the_usage_each_turn_reports_is_served_with_the_runs_totals_and_a_bad_file_ignored(
    make_settings: SettingsFactory, tmp_path: Path, agents: Path
) -> None:
    first = {"input_tokens": 1234, "output_tokens": 567, "cost_usd": 0.0123, "model": "claude-x"}
    second = {"input_tokens": 100, "output_tokens": 33, "cache_read_tokens": 7}
    settings = make_settings(sandbox="bubblewrap", sandbox_tools=str(agents))
    async for server in serve(settings):
        runtime = server.runtime
        agent = CliAgentSettings(provider="cli", command=f"python3 {agents}/metered.py")
        project_id, _ = await _project(tmp_path, agent)
        run = await actions.start_run(project_id=project_id, goal=f"Usage: {json.dumps(first)}")
        for message in (f"Usage: {json.dumps(second)}", 'Usage: {"output_tokens": -1}'):
            run = await run_settled(runtime, run.id)
            assert run.status == AgentRunStatus.COMPLETED, run.result
            await actions.continue_run(run.id, message=message)
        run = await run_settled(runtime, run.id)
        assert run.status == AgentRunStatus.COMPLETED, run.result
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
            answer = await client.get(f"/api/v1/agent-runs/{run.id}/interactions?limit=1")

        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert [turn["usage"] for turn in page["items"]] == [first]
        assert page["usage_totals"] == {
            "turns": 2,
            "input_tokens": 1334,
            "output_tokens": 600,
            "cost_usd": 0.0123,
        }
        async with runtime.database.read() as session:
            rows, _ = await interactions.list_interactions(session, run.id, limit=10, offset=0)
        assert [interactions.usage_of(row) for row in rows][1:] == [
            AgentUsage(input_tokens=100, output_tokens=33),
            None,
        ]
        said = await _progress(runtime, run.id)
        assert (
            "[cli agent] usage file ignored: output_tokens: Input should be greater than or "
            "equal to 0" in said
        )
    await nothing_left(settings.home)


async def test_a_turn_whose_server_died_fails_at_the_next_poll(
    tmp_path: Path, agents: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    external_id = await _started_by_a_server_that_is_then_killed(tmp_path, agents, repo)

    state = await cli_agent(tmp_path, agents).poll(AgentJob("cli", external_id), turn=FIRST_TURN)

    assert (state.status, state.error) == (AgentJobStatus.FAILED, STOPPED)
    assert f"[cli agent] {STOPPED}" in state.progress
    assert processes_naming(tmp_path / "work") == []  # bwrap dies with its server
    assert len(await bubblewrap(tmp_path, agents).reap()) == 1  # what it left is cleaned up


async def test_a_repeated_start_runs_the_turn_of_a_dead_server_again_and_cancel_stops_it(
    tmp_path: Path, agents: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    external_id = await _started_by_a_server_that_is_then_killed(tmp_path, agents, repo)
    agent = cli_agent(tmp_path, agents)
    job = AgentJob("cli", external_id)

    again = await agent.start(cli_task(repo, f"python3 {agents}/hang.py"), request_id="go")
    assert again == job

    async def running_twice() -> bool:
        state = await agent.poll(job, turn=FIRST_TURN)
        assert state.status is AgentJobStatus.RUNNING
        return state.progress.count("thinking...") == 2

    async with asyncio.timeout(30):
        while not await running_twice():
            await asyncio.sleep(0.05)  # a state file sends no event
    assert processes_naming(tmp_path / "work") != []
    await agent.cancel(job)
    await agent.cancel(job)  # idempotent

    state = await agent.poll(job, turn=FIRST_TURN)
    assert state.status is AgentJobStatus.CANCELLED
    assert processes_naming(tmp_path / "work") == []
    await bubblewrap(tmp_path, agents).reap()  # the dead server's sandbox


async def _started_by_a_server_that_is_then_killed(tmp_path: Path, agents: Path, repo: Path) -> str:
    """The id of a job whose turn runs `hang.py`, started by another process killed since."""
    owner = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.cli_agent_owner",
        str(tmp_path),
        str(agents),
        str(repo),
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert owner.stdout is not None
    try:
        line = await asyncio.wait_for(owner.stdout.readline(), 60)
    finally:
        owner.kill()
        await owner.wait()
    assert line, "the owner process ended before its turn ran"
    return line.decode().strip()


@pytest.mark.parametrize(
    ("agent", "where", "words"),
    [
        ({"provider": "cli"}, "agent.command", "Field required"),
        ({"provider": "cli", "command": "   "}, "agent.command", "not blank"),
        ({"provider": "cli", "command": "x" * 20000}, "agent.command", "at most 16384"),
        (
            {"provider": "cli", "command": "aider", "allowed_hosts": ["https://api.x.com"]},
            "agent.allowed_hosts",
            "holds a URL scheme",
        ),
        (
            {"provider": "cli", "command": "aider", "allowed_hosts": ["10.0.0.1"]},
            "agent.allowed_hosts",
            "IP addresses are not accepted",
        ),
        (
            {"provider": "cli", "command": "aider", "secrets": ["1KEY"]},
            "agent.secrets",
            "is not a valid variable name",
        ),
        ({"provider": "cli", "command": "aider", "secrets": ["PATH"]}, "agent.secrets", "set by"),
        (
            {"provider": "cli", "command": "aider", "secrets": ["CODEGENAPP_PROMPT"]},
            "agent.secrets",
            "are ours",
        ),
        (
            {"provider": "cli", "command": "aider", "secrets": ["KEY", "KEY"]},
            "agent.secrets",
            "twice",
        ),
        (
            {"provider": "cli", "command": "aider", "timeout_minutes": 0},
            "agent.timeout_minutes",
            "greater than or equal to 0.01",
        ),
        ({"provider": "cli", "command": "aider", "model": "x"}, "agent.model", "Extra inputs"),
        ({"provider": "nope"}, "agent", "provider must be 'scripted', 'codegen' or 'cli'"),
    ],
)
async def test_bad_command_line_agent_settings_get_a_422_naming_the_field(
    server: Server, tmp_path: Path, agent: dict[str, object], where: str, words: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    body = {"name": "app", "repository": str(repo), "agent": agent}
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        answer = await client.post("/api/v1/projects", json=body)

    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(f"{where}"), detail
    assert words in detail


async def test_good_command_line_agent_settings_are_stored_as_given(
    server: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    agent = {
        "provider": "cli",
        "command": "claude -p {prompt} --permission-mode acceptEdits",
        "allowed_hosts": ["API.anthropic.com", "*.example.com"],
        "secrets": ["ANTHROPIC_API_KEY"],
        "plan_first": True,
        "timeout_minutes": 45,
    }
    body = {"name": "app", "repository": str(repo), "agent": agent}
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        created = await client.post("/api/v1/projects", json=body)

    assert created.status_code == 201, created.text
    assert created.json()["agent"] == {
        **agent,
        "allowed_hosts": ["api.anthropic.com", "*.example.com"],
        "budgets": {"runs_per_day": None, "minutes_per_run": None},
    }


@pytest.mark.slow
def test_the_demo_runs_with_its_command_line_agent_to_a_merge(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codegenapp.cli", "demo", "--no-serve", "--json", "--agent", "cli"],
        env={**os.environ, "CODEGENAPP_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["merged"] is True
    assert (report["agent_run"]["status"], report["agent_run"]["agent"]) == ("completed", "cli")
    attempts = [(v["attempt"], v["status"], v["failed_step"]) for v in report["validations"]]
    assert attempts == [(1, "failed", "health_check"), (2, "passed", None)]
