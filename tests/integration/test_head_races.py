"""A pull request's head is validated once, whoever asks at the same moment: two deliveries
of GitHub's (an `opened` and a `synchronize` racing), the sweep, and the agent run that pushed
it. On PostgreSQL their transactions really overlap; on SQLite writers queue."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import SettingsFactory
from tests.support.projects import APP, make_repository

from codegenapp.db.queries import validations
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.drivers.forge.events import PullRequestAction, PullRequestChanged
from codegenapp.flows import projects as project_flows
from codegenapp.flows import pull_request_heads as heads
from codegenapp.flows.runtime import Runtime
from codegenapp.main import running

HEAD = "a" * 40


@pytest.fixture
async def backend_on(
    make_settings: SettingsFactory, database_url: str | None
) -> AsyncIterator[Runtime]:
    async with running(make_settings(database_url=database_url)) as runtime:
        yield runtime


async def test_racing_reports_of_one_new_head_make_one_pull_request_and_one_validation(
    backend_on: Runtime, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    project = await project_flows.create_project(
        name="races",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe="- reply: hi\n"),
        settings=ProjectSettings(),
    )
    event = PullRequestChanged(
        repository=str(repo),
        action=PullRequestAction.OPENED,
        number=7,
        url="https://example.invalid/pull/7",
        title="Race",
        author="someone",
        head_branch="race",
        head_sha=HEAD,
        base_branch="main",
        draft=False,
        merged=False,
    )

    plans = await asyncio.gather(*(heads.new_head(project, event) for _ in range(8)))

    async with backend_on.database.read() as session:
        rows, _ = await validations.list_validations(session, project_id=project.id)
    of_head = [row for row in rows if row.head_sha == HEAD]  # the base branch has its own
    assert len(of_head) == 1, [(row.id, row.pull_request_id) for row in of_head]
    assert sum(len(plan.queued) for plan in plans) == 1
