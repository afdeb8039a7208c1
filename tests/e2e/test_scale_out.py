"""Production shape: an API-only server and a separate worker process sharing PostgreSQL,
with live events crossing between them through Redis."""

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
import websockets
from tests.conftest import TEST_TOKEN, free_port, postgres_database
from tests.support.processes import codegenapp
from tests.support.projects import APP, make_repository, merges_on, recipe_text

pytestmark = pytest.mark.slow


async def test_an_api_only_server_and_a_worker_carry_a_run_to_its_merge(tmp_path: Path) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    recipe = recipe_text([{"files": {"NOTES.md": "hi\n"}}])
    port = free_port()
    with postgres_database() as database_url:
        env = {
            "CODEGENAPP_HOME": str(tmp_path / "home"),
            "CODEGENAPP_REPOSITORY_ROOTS": str(tmp_path),
            "DATABASE_URL": database_url,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CODEGENAPP_REDIS_CHANNEL": f"codegenapp-test:{uuid.uuid4().hex}",
            "CODEGENAPP_ADMIN_TOKEN": TEST_TOKEN,
            "CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC": "0.02",
            "CODEGENAPP_RUN_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        }
        api = codegenapp("serve", "--no-workers", "--port", str(port), env=env, ready="Ready on")
        worker = codegenapp(
            "worker", env={**env, "CODEGENAPP_EXECUTOR_ID": "worker-1"}, ready="worker"
        )
        async with api, worker:
            headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers
            ) as client:
                project = await client.post(
                    "/api/v1/projects",
                    json={
                        "name": "split",
                        "repository": str(repo),
                        "agent": {"recipe": recipe},
                    },
                )
                assert project.status_code == 201, project.text
                async with websockets.connect(
                    f"ws://127.0.0.1:{port}/ws?token={TEST_TOKEN}&since=0"
                ) as ws:
                    run = (
                        await client.post(
                            "/api/v1/agent-runs",
                            json={"project_id": project.json()["id"], "goal": "Add notes"},
                        )
                    ).json()
                    kinds = []
                    while "agent_run_completed" not in kinds:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                        kinds.append(message["type"])
                final = (await client.get(f"/api/v1/agent-runs/{run['id']}")).json()
    assert final["status"] == "completed", final
    assert final["pull_request"]["merged"] is True
    assert len(merges_on(repo)) == 1
    assert "validation_log" in kinds  # live-only log lines crossed from the worker via Redis
