"""A goal worked on by the Codegen agent, end to end over HTTP: the real server asks the fake
Codegen for an agent run, Codegen's agent pushes a branch and opens a pull request on the fake
GitHub, the validation fails, the error context goes back as a `resume`, the fix is pushed and
validated, and the pull request is merged at the validated head."""

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory
from tests.fakes.codegen import FakeCodegen
from tests.fakes.codegen.behaviour import Change, Reply, Script, Turn
from tests.fakes.github import FakeGitHub
from tests.support.github import REPO, create_project, serve_on
from tests.support.projects import APP
from tests.support.waiting import run_settled, until

from codegenapp.db.queries import agent_runs, validations
from codegenapp.domain.agent_settings import CodegenAgentSettings
from codegenapp.domain.states import AgentRunStatus, ValidationStatus
from codegenapp.drivers.agent import (
    FIRST_TURN,
    AgentJob,
    AgentJobStatus,
    AgentState,
    AgentTask,
    TurnMarker,
)
from codegenapp.drivers.agent.codegen import CodegenAgent
from codegenapp.drivers.agent.codegen_api import CodegenApi

PASSING_CHECK = "print('checks pass')\n"
FAILING_CHECK = "import sys\nprint('AssertionError: total is 2, expected 3')\nsys.exit(1)\n"


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": APP, "check.py": PASSING_CHECK})
        yield fake


@pytest.fixture
async def codegen(tmp_path: Path, github: FakeGitHub) -> AsyncIterator[FakeCodegen]:
    async with FakeCodegen(tmp_path, github=github) as fake:
        fake.connect(REPO)
        yield fake


@pytest.fixture
async def server(
    make_settings: SettingsFactory, github: FakeGitHub, codegen: FakeCodegen
) -> AsyncIterator[Server]:
    async for running in serve_on(
        make_settings,
        github,
        codegen_api_url=codegen.url,
        codegen_api_key=codegen.api_key,
        codegen_org_id=codegen.org_id,
    ):
        yield running


async def make_project(server: Server) -> int:
    return await create_project(
        server,
        agent={"provider": "codegen"},
        validation_settings={
            "required_checks": ["test"],
            "test_command": "python3 check.py",
            "validate_base_branch": False,
        },
    )


async def start_run(server: Server, project_id: int, goal: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        answer = await client.post(
            "/api/v1/agent-runs", json={"project_id": project_id, "goal": goal}
        )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def test_a_codegen_pull_request_that_fails_is_fixed_by_codegen_and_merged(
    server: Server, github: FakeGitHub, codegen: FakeCodegen
) -> None:
    def fix(turn: Turn) -> Change:
        # The fix request carries the failure, fenced as data, for the agent to act on.
        assert "AssertionError: total is 2, expected 3" in turn.prompt, turn.prompt
        assert "```" in turn.prompt
        return Change({"check.py": PASSING_CHECK + "# fixed\n"}, "Fix the total")

    script = Script(Change({"check.py": FAILING_CHECK}, "Compute the total", title="Totals"), fix)
    codegen.behaviour = script
    project_id = await make_project(server)

    run_id = await start_run(server, project_id, "Show the order total")
    ended = await run_settled(server.runtime, run_id, timeout=180)

    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    assert ended.result is not None
    assert ended.result.startswith("Merged pull request"), ended.result
    (merged,) = github.merges
    pr = github.pull_request(REPO, merged.number)
    assert pr.title == "Totals"
    assert pr.head_ref == script.turns[1].branch
    async with server.runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, project_id=project_id)
        run = await agent_runs.require_run(session, run_id)
    statuses = sorted((row.attempt, row.status) for row in rows)
    assert statuses == [(1, ValidationStatus.FAILED), (2, ValidationStatus.PASSED)]
    passed = next(row for row in rows if row.status == ValidationStatus.PASSED)
    assert pr.merged
    assert passed.head_sha == pr.head_sha  # merged at the validated head
    assert run.agent_is_ai
    assert run.agent_driver == "codegen"
    (created,) = codegen.requests_to("create_run")
    assert "Show the order total" in str(created.body)
    assert created.body["metadata"]["codegenapp_run_id"] == run_id  # type: ignore[index]
    assert len(codegen.requests_to("resume")) == 1


async def test_a_codegen_answer_without_a_pull_request_completes_the_run_with_its_reply(
    server: Server, codegen: FakeCodegen
) -> None:
    codegen.behaviour = Script(Reply("The total is computed in cart.py, line 12."))
    project_id = await make_project(server)

    run_id = await start_run(server, project_id, "Where is the total computed?")
    ended = await run_settled(server.runtime, run_id, timeout=60)

    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    assert ended.result == "The total is computed in cart.py, line 12."


async def test_a_codegen_plan_waits_for_a_person_and_the_answer_is_sent_as_a_resume(
    server: Server, github: FakeGitHub, codegen: FakeCodegen
) -> None:
    plan = (
        "Here is my plan:\n1. Add `total()` to `app.py`.\n2. Add a test in `check.py`.\n"
        "3. Open a pull request."
    )

    def go(turn: Turn) -> Change:
        assert "confirmed" in turn.prompt, turn.prompt
        return Change({"check.py": PASSING_CHECK + "# total\n"}, "Add total")

    codegen.behaviour = Script(Reply(plan), go)
    project_id = await make_project(server)
    run_id = await start_run(server, project_id, "Add a total")

    async def waiting() -> bool | None:
        async with server.runtime.database.read() as session:
            run = await agent_runs.require_run(session, run_id)
        return True if run.status == AgentRunStatus.WAITING_INPUT else None

    await until(server.runtime, waiting, timeout=60)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        answer = await client.post(
            f"/api/v1/agent-runs/{run_id}/plan-response", json={"action": "confirm"}
        )
    assert answer.status_code == 202, answer.text

    ended = await run_settled(server.runtime, run_id, timeout=120)
    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    assert len(github.merges) == 1


async def test_a_spent_codegen_allowance_fails_the_run_with_the_reason(
    server: Server, codegen: FakeCodegen
) -> None:
    codegen.set_run_allowance(0)
    project_id = await make_project(server)

    run_id = await start_run(server, project_id, "Anything")
    ended = await run_settled(server.runtime, run_id, timeout=60)

    assert ended.status == AgentRunStatus.FAILED
    assert "allowance of agent runs is spent" in (ended.result or ""), ended.result


async def test_right_after_a_resume_the_previous_answer_is_not_taken_for_the_new_turn(
    codegen: FakeCodegen,
) -> None:
    go_on = asyncio.Event()

    async def slow_second_turn(turn: Turn) -> Reply:
        await go_on.wait()
        return Reply("second answer")

    codegen.behaviour = Script(Reply("first answer"), slow_second_turn)
    agent = CodegenAgent(CodegenApi(codegen.url, codegen.api_key, codegen.org_id))
    task = AgentTask(
        run_id=1,
        goal="Explain",
        repository=REPO,
        base_branch="main",
        branch="codegen/run-1",
        settings=CodegenAgentSettings(provider="codegen"),
    )
    job = await agent.start(task, request_id="start")
    first = await until_over(agent, job, FIRST_TURN)
    assert (first.status, first.reply) == (AgentJobStatus.WAITING, "first answer")

    marker = await agent.resume(job, "And then?", request_id="next")
    codegen.show_statuses(int(job.external_id), "COMPLETE")  # Codegen has not picked it up yet
    stale = await agent.poll(job, turn=marker)
    assert stale.status is AgentJobStatus.RUNNING, stale
    go_on.set()
    second = await until_over(agent, job, marker)
    assert (second.status, second.reply) == (AgentJobStatus.WAITING, "second answer")
    assert any("second answer" in line for line in second.progress)


async def until_over(agent: CodegenAgent, job: AgentJob, marker: TurnMarker) -> AgentState:
    for _ in range(200):
        state = await agent.poll(job, turn=marker)
        if state.status is not AgentJobStatus.RUNNING:
            return state
        await asyncio.sleep(0.02)  # polling a remote API, as the flow does
    raise AssertionError("the turn never ended")


@pytest.fixture
async def server_without_codegen(
    make_settings: SettingsFactory, github: FakeGitHub
) -> AsyncIterator[Server]:
    async for running in serve_on(make_settings, github):
        yield running


async def test_a_codegen_project_on_a_server_without_a_codegen_account_is_refused_naming_it(
    server_without_codegen: Server,
) -> None:
    body = {"name": "app", "forge": "github", "repository": REPO, "agent": {"provider": "codegen"}}
    async with httpx.AsyncClient(
        base_url=server_without_codegen.url, headers=server_without_codegen.headers
    ) as client:
        refused = await client.post("/api/v1/projects", json=body)
        unknown = await client.post(
            "/api/v1/projects", json={**body, "agent": {"provider": "aider", "repo_id": 1}}
        )
        listed = await client.get("/api/v1/projects")

    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["errors"]
    assert problem["loc"] == ["body", "agent", "provider"]
    assert "CODEGEN_API_KEY" in problem["msg"]
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["loc"] == ["body", "agent"]
    assert "'scripted', 'codegen' or 'cli'" in unknown.json()["errors"][0]["msg"]
    assert listed.json()["total"] == 0


async def test_doctor_says_whose_codegen_key_it_is_and_whether_it_is_in_the_organization(
    codegen: FakeCodegen, tmp_path: Path
) -> None:
    async def doctor(org_id: int) -> str:
        env = {
            "CODEGENAPP_HOME": str(tmp_path / "home"),
            "PATH": "/usr/bin:/bin",
            "CODEGEN_API_URL": codegen.url,
            "CODEGEN_API_KEY": codegen.api_key,
            "CODEGEN_ORG_ID": str(org_id),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "codegenapp.cli", "doctor",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        return next(line for line in out.decode().splitlines() if " codegen " in line)

    other = codegen.add_organization("elsewhere")

    found = await doctor(codegen.org_id)
    assert found.startswith("ok  codegen "), found
    assert f"key of alice, organization {codegen.org_id}" in found
    refused = await doctor(other)
    assert refused.startswith("no  codegen "), refused
    assert f"not in organization {other}" in refused
    assert f"{codegen.org_id} (acme)" in refused
