"""The fix loop's guards, through a real server and the scripted agent: a fix that bends the
gate (skips a test, edits CI) waits for a person with what it bent shown, and is validated
only once approved; an honest fix never waits; a pull request that strays from the plan a
person confirmed is flagged on the run and on the pull request. On GitHub, the fix's webhook
does not validate it behind the person's back."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory
from tests.fakes.github import FakeGitHub
from tests.support.github import REPO, create_project, serve_on
from tests.support.projects import APP, make_repository, merges_on, recipe_text
from tests.support.waiting import run_in, run_settled

from codegenapp.db.queries import validations
from codegenapp.domain.reports import PLAN_NOTE_MARKER
from codegenapp.domain.states import AgentRunStatus
from codegenapp.drivers.forge.local_repo import open_repository

TEST = "def test_total():\n    assert 1 + 1 == 2\n"
SKIPPED = "import pytest\n\n\n@pytest.mark.skip(reason='flaky')\n" + TEST
BROKEN_APP = APP + "\ndef broken(:\n"  # the build (py_compile) fails
FIXED_APP = APP + "\n# fixed\n"
SETTINGS = {
    "deployment_settings": {"build_command": "python3 -m py_compile app.py"},
    "validation_settings": {"required_checks": ["build"], "max_retries": 2},
}


async def _project(
    client: httpx.AsyncClient, tmp_path: Path, turns: list[dict[str, object]]
) -> tuple[int, Path]:
    repo = make_repository(tmp_path / "repo", {"app.py": APP, "tests/test_total.py": TEST})
    body = {
        "name": "shop",
        "repository": str(repo),
        "agent": {"provider": "scripted", "recipe": recipe_text(turns)},
        **SETTINGS,
    }
    created = await client.post("/api/v1/projects", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"]), repo


async def _start(client: httpx.AsyncClient, project_id: int, goal: str) -> int:
    created = await client.post("/api/v1/agent-runs", json={"project_id": project_id, "goal": goal})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def _event_types(client: httpx.AsyncClient, run_id: int) -> list[str]:
    answer = await client.get("/api/v1/events", params={"agent_run_id": run_id, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return [event["type"] for event in answer.json()]


async def _attempts(server: Server, run_id: int) -> list[tuple[int, str]]:
    async with server.runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, agent_run_id=run_id)
    return sorted((row.attempt, row.status) for row in rows)


async def test_a_fix_that_skips_a_test_waits_for_approval_and_is_merged_once_approved(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    project_id, repo = await _project(
        client,
        tmp_path,
        [
            {"files": {"app.py": BROKEN_APP}, "message": "Add the total"},
            {"files": {"app.py": FIXED_APP, "tests/test_total.py": SKIPPED}, "message": "Fix"},
        ],
    )
    run_id = await _start(client, project_id, "Add the total")

    await run_in(server_.runtime, run_id, AgentRunStatus.WAITING_APPROVAL)
    waiting = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    held = waiting["held_change"]
    assert held["approved"] is False
    assert held["head_sha"] == waiting["pull_request"]["head_sha"]
    [finding] = held["findings"]
    assert (finding["kind"], finding["path"]) == ("tests_skipped", "tests/test_total.py")
    assert "+@pytest.mark.skip(reason='flaky')" in finding["hunk"]
    assert await _attempts(server_, run_id) == [(1, "failed")]  # the fix was not validated
    assert merges_on(repo) == []

    approved = await client.post(f"/api/v1/agent-runs/{run_id}/approve-change")
    assert approved.status_code == 202, approved.text
    assert approved.json()["status"] == "running"
    assert approved.json()["held_change"]["approved"] is True
    again = await client.post(f"/api/v1/agent-runs/{run_id}/approve-change")
    assert again.status_code == 409  # one click approves once

    ended = await run_settled(server_.runtime, run_id)
    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    assert await _attempts(server_, run_id) == [(1, "failed"), (2, "passed")]
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert run["pull_request"]["merged"] is True
    assert merges_on(repo) == [run["pull_request"]["merge_sha"]]
    types = await _event_types(client, run_id)
    assert types.index("agent_run_change_held") < types.index("agent_run_change_approved")


async def test_a_fix_that_edits_a_workflow_waits_and_a_cancel_refuses_it(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    workflow = ".github/workflows/ci.yml"
    project_id, repo = await _project(
        client,
        tmp_path,
        [
            {"files": {"app.py": BROKEN_APP}},
            {"files": {"app.py": FIXED_APP, workflow: "on: push\njobs: {}\n"}},
        ],
    )
    run_id = await _start(client, project_id, "Add the total")

    await run_in(server_.runtime, run_id, AgentRunStatus.WAITING_APPROVAL)
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert [(f["kind"], f["path"]) for f in run["held_change"]["findings"]] == [
        ("ci_config_changed", workflow)
    ]
    assert "+on: push" in run["held_change"]["findings"][0]["hunk"]

    cancelled = await client.post(f"/api/v1/agent-runs/{run_id}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    refused = await client.post(f"/api/v1/agent-runs/{run_id}/approve-change")
    assert refused.status_code == 409
    assert await _attempts(server_, run_id) == [(1, "failed")]
    assert merges_on(repo) == []


async def test_an_honest_fix_is_validated_and_merged_without_waiting(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    project_id, repo = await _project(
        client, tmp_path, [{"files": {"app.py": BROKEN_APP}}, {"files": {"app.py": FIXED_APP}}]
    )
    run_id = await _start(client, project_id, "Add the total")

    ended = await run_settled(server_.runtime, run_id)
    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    assert await _attempts(server_, run_id) == [(1, "failed"), (2, "passed")]
    assert len(merges_on(repo)) == 1
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert run["held_change"] is None
    types = await _event_types(client, run_id)
    assert "agent_run_change_held" not in types
    assert "agent_run_plan_strayed" not in types


async def test_approving_a_run_that_waits_for_no_approval_is_a_409(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    project_id, _ = await _project(client, tmp_path, [{"reply": "The total is 3."}])
    run_id = await _start(client, project_id, "What is the total?")
    await run_settled(server_.runtime, run_id)

    refused = await client.post(f"/api/v1/agent-runs/{run_id}/approve-change")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"agent run {run_id} is completed, not waiting for a change's approval"
    )
    assert (await client.post("/api/v1/agent-runs/999/approve-change")).status_code == 404


async def test_a_pull_request_that_strays_from_its_confirmed_plan_is_flagged(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    plan = "Here is my plan:\n1. Change `app.py` to answer with the total.\n2. Open a pull request."
    strays = {
        "app.py": FIXED_APP,
        "billing/invoice.py": "INVOICE = 1\n",
        "billing/tax.py": "TAX = 0.2\n",
        "README.md": "A shop\n",
    }
    project_id, repo = await _project(client, tmp_path, [{"plan": plan}, {"files": strays}])
    run_id = await _start(client, project_id, "Answer with the total")
    await run_in(server_.runtime, run_id, AgentRunStatus.WAITING_INPUT)
    answered = await client.post(
        f"/api/v1/agent-runs/{run_id}/plan-response", json={"action": "confirm"}
    )
    assert answered.status_code == 202, answered.text

    ended = await run_settled(server_.runtime, run_id)
    assert ended.status == AgentRunStatus.COMPLETED, ended.result  # flagged, not held
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    drift = run["plan_drift"]
    assert drift["strays"] is True
    assert drift["head_sha"] == run["pull_request"]["head_sha"]
    assert drift["unnamed"] == ["README.md", "billing/invoice.py", "billing/tax.py"]
    assert drift["changed"] == 4
    assert "agent_run_plan_strayed" in await _event_types(client, run_id)
    local = await open_repository(str(repo), [tmp_path])
    pull = await local.pulls.load(run["pull_request"]["number"])
    assert pull is not None
    [note] = [c.body for c in pull.comments if PLAN_NOTE_MARKER in c.body]
    assert "strays from its confirmed plan" in note
    assert "- `billing/invoice.py`" in note


# On GitHub: the fix's webhook arrives while the run reads the head; it must not validate it.


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": APP, "tests/test_total.py": TEST})
        yield fake


@pytest.fixture
async def github_server(
    make_settings: SettingsFactory, github: FakeGitHub
) -> AsyncIterator[Server]:
    async for running in serve_on(make_settings, github):
        yield running


async def test_on_github_a_held_fix_is_not_validated_by_its_webhook_until_approved(
    github_server: Server, github: FakeGitHub
) -> None:
    recipe = recipe_text(
        [
            {"files": {"app.py": BROKEN_APP}},
            {"files": {"app.py": FIXED_APP, "tests/test_total.py": SKIPPED}},
        ]
    )
    project_id = await create_project(
        github_server,
        agent={"recipe": recipe},
        deployment_settings=SETTINGS["deployment_settings"],
        validation_settings={**SETTINGS["validation_settings"], "validate_base_branch": False},
    )
    async with httpx.AsyncClient(
        base_url=github_server.url, headers=github_server.headers
    ) as client:
        run_id = await _start(client, project_id, "Add the total")
        await run_in(github_server.runtime, run_id, AgentRunStatus.WAITING_APPROVAL, timeout=120)
        await github.deliveries_sent()  # the fix's `synchronize` was answered and processed
        assert await _attempts(github_server, run_id) == [(1, "failed")]

        approved = await client.post(f"/api/v1/agent-runs/{run_id}/approve-change")
        assert approved.status_code == 202, approved.text
        ended = await run_settled(github_server.runtime, run_id, timeout=120)

    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    assert await _attempts(github_server, run_id) == [(1, "failed"), (2, "passed")]
    (merged,) = github.merges
    assert github.pull_request(REPO, merged.number).head_ref == ended.branch
