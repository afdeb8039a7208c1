"""An agent that is not native to GitHub works on a GitHub project exactly as on a local one:
the orchestrator commits its files, pushes the branch and opens the pull request through the
forge; the pull request is validated once (its webhook and the run agree on the head) and
merged at the validated commit."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory
from tests.fakes.github import FakeGitHub
from tests.support.github import REPO, serve_on
from tests.support.projects import APP, recipe_text
from tests.support.waiting import run_settled

from codegenapp.db.queries import validations
from codegenapp.domain.states import AgentRunStatus


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": APP})
        yield fake


@pytest.fixture
async def server(make_settings: SettingsFactory, github: FakeGitHub) -> AsyncIterator[Server]:
    async for running in serve_on(make_settings, github):
        yield running


async def test_the_scripted_agent_opens_a_pull_request_on_github_that_is_validated_and_merged(
    server: Server, github: FakeGitHub
) -> None:
    recipe = recipe_text([{"files": {"NOTES.md": "notes\n"}, "message": "Add notes"}])
    body = {
        "name": "app",
        "forge": "github",
        "repository": REPO,
        "agent": {"recipe": recipe},
        "deployment_settings": {"build_command": "test -f NOTES.md"},
        "validation_settings": {"required_checks": ["build"], "validate_base_branch": False},
    }
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        project = (await client.post("/api/v1/projects", json=body)).json()
        run = (
            await client.post(
                "/api/v1/agent-runs", json={"project_id": project["id"], "goal": "Add notes"}
            )
        ).json()

    ended = await run_settled(server.runtime, run["id"], timeout=120)
    assert ended.status == AgentRunStatus.COMPLETED, ended.result
    (merged,) = github.merges
    pr = github.pull_request(REPO, merged.number)
    assert pr.head_ref == ended.branch
    assert await github.branch_sha(REPO, "main") == pr.merge_commit_sha
    await github.deliveries_sent()
    async with server.runtime.database.read() as session:
        rows, total = await validations.list_validations(session, project_id=project["id"])
    assert total == 1, [(row.head_sha, row.agent_run_id, row.status) for row in rows]
    assert rows[0].agent_run_id == run["id"]
