"""A back end stopped (not killed) in the middle of a validation: its workflows stop with it,
nothing of theirs runs on or is left, nothing is recorded as ended, and the next start
finishes the flow. (A workflow left running once went on to start an egress proxy after the
shutdown had reaped its sandboxes: a process nobody would ever stop.)"""

import contextlib
from pathlib import Path

import httpx
import pytest
from tests.conftest import SettingsFactory, nothing_left, serve
from tests.support.projects import APP, make_repository, merges_on, recipe_text
from tests.support.waiting import run_settled, until

from codegenapp.db.queries import validations
from codegenapp.domain.states import AgentRunStatus, StepName, StepStatus, ValidationStatus
from codegenapp.main import running_workflow_tasks

PROJECT = {
    "name": "stop",
    "deployment_settings": {"build_command": "sleep 3"},
    "validation_settings": {"required_checks": ["build"]},
}


async def test_a_stopped_back_end_stops_its_workflows_and_the_next_start_finishes_them(
    make_settings: SettingsFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    recipe = recipe_text([{"files": {"NOTES.md": "hello\n"}}])
    body = {**PROJECT, "repository": str(repo), "agent": {"provider": "scripted", "recipe": recipe}}

    async with contextlib.aclosing(serve(settings)) as servers:
        server = await anext(servers)
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
            project = (await client.post("/api/v1/projects", json=body)).json()
            run = await client.post(
                "/api/v1/agent-runs", json={"project_id": project["id"], "goal": "Add notes"}
            )
            run_id = run.json()["id"]

        async def building() -> int | None:
            async with server.runtime.database.read() as session:
                ids = await validations.validation_ids_of_run(session, run_id)
                for validation_id in ids:
                    step = await validations.get_step(session, validation_id, StepName.DEPLOY)
                    if step is not None and step.status == StepStatus.RUNNING:
                        return validation_id
            return None

        validation_id = await until(server.runtime, building)  # mid-build
    await nothing_left(settings.home)
    assert running_workflow_tasks() == [], "a workflow ran on after its back end stopped"
    # The cut attempt's last forge report went out before the runtime it reads was unbound.
    assert "no Runtime is bound" not in caplog.text

    async with contextlib.aclosing(serve(settings)) as servers:
        server = await anext(servers)
        async with server.runtime.database.read() as session:
            cut = await validations.require_validation(session, validation_id)
        assert cut.status == ValidationStatus.RUNNING, "the stop was recorded as an ending"
        ended = await run_settled(server.runtime, run_id)
        assert ended.status == AgentRunStatus.COMPLETED, ended.result
    await nothing_left(settings.home)
    assert len(merges_on(repo)) == 1
