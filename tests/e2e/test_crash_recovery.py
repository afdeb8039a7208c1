"""A real server process, killed with SIGKILL in the middle of a validation and started again:
the flow finishes, merges once, and every event that was visible before the kill is still
there."""

import asyncio
import json
import os
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
import websockets
from tests.conftest import TEST_TOKEN, free_port
from tests.support.processes import codegenapp
from tests.support.projects import APP, git, make_repository, merges_on, recipe_text

pytestmark = pytest.mark.slow


def _server(home: Path, port: int) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    env = {
        "CODEGENAPP_HOME": str(home),
        "CODEGENAPP_REPOSITORY_ROOTS": str(home.parent),
        "CODEGENAPP_ADMIN_TOKEN": TEST_TOKEN,
        "CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "CODEGENAPP_RUN_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "CODEGENAPP_AGENT_POLL_INTERVAL_SEC": "0.02",
    }
    return codegenapp("serve", "--port", str(port), env=env, ready="Ready on")


async def _events_until(url: str, since: int, stop: str) -> list[dict[str, object]]:
    """Stream persisted events from `since` until one of type `stop` arrives."""
    received: list[dict[str, object]] = []
    async with websockets.connect(f"{url}?token={TEST_TOKEN}&since={since}") as ws:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["id"] is None:
                continue
            received.append(message)
            if stop in (
                message["type"],
                f"{message['type']}:{message['data'].get('step')}:{message['data'].get('step_status')}",
            ):
                return received


async def _log_once_it_shows(client: httpx.AsyncClient, run_id: int, text: str) -> tuple[int, str]:
    """The run's validation and its deploy step's stored log, as soon as that holds `text`.
    Polled over HTTP, the way a person's client would (a real process from outside: no event
    to await here; a WebSocket subscription once saw the step's start after its build had
    ended, on a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        listed = await client.get("/api/v1/validations", params={"agent_run_id": run_id})
        for validation in listed.json()["items"]:
            path = f"/api/v1/validations/{validation['id']}/steps/deploy/log"
            log = await client.get(path)
            if text in log.text:
                return int(validation["id"]), log.text
        await asyncio.sleep(0.01)
    raise AssertionError(f"the deploy log never showed {text!r}")


async def test_a_server_killed_mid_validation_finishes_the_flow_after_a_restart(
    tmp_path: Path,
) -> None:
    home, port = tmp_path / "home", free_port()
    api, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    recipe = recipe_text([{"files": {"NOTES.md": "hello\n"}}])
    project = {
        "name": "crash",
        "repository": str(repo),
        "agent": {"recipe": recipe},
        # The build takes long enough for the kill to land inside it, even on a loaded machine
        # (4 s was not: the log showed "started" only after the build had finished).
        "deployment_settings": {
            # Arithmetic, so that the markers are in the output but not in the echoed command.
            "build_command": "echo started-$((40+2)); sleep 15; echo finished-$((40+2))",
            "deploy_command": "python3 app.py",
            "health_check_url": "/health",
            "port": 9100,
        },
        "validation_settings": {"required_checks": ["build", "health"]},
    }
    headers = {"Authorization": f"Bearer {TEST_TOKEN}"}

    async with _server(home, port) as first:
        async with httpx.AsyncClient(base_url=api, headers=headers) as client:
            project_id = (await client.post("/api/v1/projects", json=project)).json()["id"]
            run = (
                await client.post(
                    "/api/v1/agent-runs", json={"project_id": project_id, "goal": "Add notes"}
                )
            ).json()
            validation_id, log_at_kill = await _log_once_it_shows(client, run["id"], "started-42")
            before = (await client.get("/api/v1/events", params={"limit": 1000})).json()
        os.killpg(first.pid, signal.SIGKILL)
        await first.wait()
    assert "finished-42" not in log_at_kill, "the kill did not land inside the build"

    async with _server(home, port):
        after = await _events_until(ws_url, 0, "agent_run_completed")
        async with httpx.AsyncClient(base_url=api, headers=headers) as client:
            final = (await client.get(f"/api/v1/agent-runs/{run['id']}")).json()
            log_after = (
                await client.get(f"/api/v1/validations/{validation_id}/steps/deploy/log")
            ).text
            validations = (
                await client.get("/api/v1/validations", params={"agent_run_id": run["id"]})
            ).json()

    assert final["status"] == "completed", final
    assert "finished-42" in log_after, "the restarted attempt did not build again"
    assert final["pull_request"]["merged"] is True
    assert len(merges_on(repo)) == 1
    assert git(repo, "rev-parse", "main^2") == final["pull_request"]["head_sha"]
    assert [(v["attempt"], v["status"]) for v in validations["items"]] == [(1, "passed")]

    ids_after = [event["id"] for event in after]
    assert {event["id"] for event in before} <= set(ids_after), (
        "an event seen before the kill was lost"
    )
    assert ids_after == sorted(set(ids_after))
    kinds = [event["type"] for event in after]
    assert kinds.count("pull_request_merged") == 1
    assert kinds.count("agent_run_completed") == 1
    assert any(
        event["data"].get("restarted") for event in after if event["type"] == "validation_progress"
    )
    assert list((home / "work").iterdir()) == [], "the dead attempt's work area was not cleaned up"
