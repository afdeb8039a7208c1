"""Live events: the WebSocket (token, catch-up with since=, order) and the Redis bus."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import websockets
from tests.conftest import TEST_TOKEN, Server, SettingsFactory
from tests.support.projects import APP, make_repository, recipe_text

from codegenapp.bus.redis import RedisBus
from codegenapp.domain.events import EventRecord, EventType
from codegenapp.domain.ids import EventId, ProjectId
from codegenapp.flows import actions

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _receive(ws: websockets.ClientConnection, count: int) -> list[dict[str, object]]:
    messages = []
    while len(messages) < count:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["id"] is not None:
            messages.append(message)
    return messages


async def test_the_websocket_refuses_a_missing_or_wrong_token(server: Server) -> None:
    for url in (server.ws_url, f"{server.ws_url}?token=wrong"):
        async with websockets.connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008


# These projects validate no base branch: its background validation's events would interleave
# with the ones these tests count.
QUIET = {"validation_settings": {"validate_base_branch": False}}


async def test_a_client_reconnecting_with_since_gets_what_it_missed_then_live_events(
    server: Server, tmp_path: Path
) -> None:
    base = tmp_path
    repo = make_repository(base / "repo", {"app.py": APP})
    recipe = recipe_text([{"reply": "hi"}])
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        first = await client.post(
            "/api/v1/projects",
            json={"name": "a", "repository": str(repo), "agent": {"recipe": recipe}, **QUIET},
        )
        assert first.status_code == 201
        async with websockets.connect(f"{server.ws_url}?token={TEST_TOKEN}&since=0") as ws:
            [created] = await _receive(ws, 1)
        assert created["type"] == "project_created"
        assert set(created) == {"id", "type", "project_id", "data", "ts"}

        # While no client listens: a second project and a whole agent run.
        await client.post(
            "/api/v1/projects",
            json={"name": "b", "repository": str(repo), "agent": {"recipe": recipe}, **QUIET},
        )
        run = await actions.start_run(project_id=first.json()["id"], goal="Say hi")
        async with websockets.connect(
            f"{server.ws_url}?token={TEST_TOKEN}&since={created['id']}"
        ) as ws:
            missed = await _receive(ws, 2)
            assert [m["type"] for m in missed] == ["project_created", "agent_run_started"]
            rest = []
            while not any(m["type"] == "agent_run_completed" for m in rest):
                rest += await _receive(ws, 1)
    stream = missed + rest
    ids = [m["id"] for m in stream]
    assert ids == sorted(set(ids))
    assert ids[0] == created["id"] + 1  # nothing skipped
    completed = [m for m in stream if m["type"] == "agent_run_completed"]
    assert completed[0]["data"]["agent_run_id"] == run.id


async def _listening(server: Server, tmp_path: Path) -> tuple[websockets.ClientConnection, int]:
    """A socket that is surely subscribed: it has replayed the project created just before."""
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    recipe = recipe_text([{"reply": "hi"}])
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        project = await client.post(
            "/api/v1/projects",
            json={"name": "p", "repository": str(repo), "agent": {"recipe": recipe}, **QUIET},
        )
    project_id = int(project.json()["id"])
    ws = await websockets.connect(
        f"{server.ws_url}?token={TEST_TOKEN}&since=0&project_id={project_id}"
    )
    [created] = await _receive(ws, 1)
    assert created["type"] == "project_created"
    return ws, project_id


async def test_a_project_filter_streams_only_that_projects_events(
    server: Server, tmp_path: Path
) -> None:
    ws, project_id = await _listening(server, tmp_path)
    async with ws:
        await server.runtime.bus.publish(
            [
                EventRecord(
                    EventId(10_001),
                    EventType.AGENT_RUN_PROGRESS,
                    ProjectId(project_id + 1),
                    {},
                    datetime.now(UTC),
                ),
                EventRecord(
                    None,
                    EventType.VALIDATION_LOG,
                    ProjectId(project_id),
                    {"text": "x"},
                    datetime.now(UTC),
                ),
            ]
        )
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert (message["type"], message["project_id"], message["id"]) == (
        "validation_log",
        project_id,
        None,
    )


async def test_the_redis_bus_carries_events_between_processes() -> None:
    channel = f"codegenapp-test:{uuid.uuid4().hex}"
    one, two = RedisBus(REDIS_URL, channel=channel), RedisBus(REDIS_URL, channel=channel)
    await one.start()
    await two.start()
    try:
        event = EventRecord(
            EventId(5),
            EventType.VALIDATION_STARTED,
            ProjectId(1),
            {"validation_id": 3},
            datetime.now(UTC),
        )
        async with one.subscribe() as here, two.subscribe() as there:
            await one.publish([event])
            got_here = await asyncio.wait_for(anext(aiter(here)), 10)
            got_there = await asyncio.wait_for(anext(aiter(there)), 10)
        assert got_here == event
        assert got_there == event
    finally:
        await one.close()
        await two.close()


async def test_a_server_with_redis_streams_events_published_by_another_process(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    from tests.conftest import serve

    channel = f"codegenapp-test:{uuid.uuid4().hex}"
    settings = make_settings(redis_url=REDIS_URL, redis_channel=channel)
    other = RedisBus(REDIS_URL, channel=channel)
    await other.start()
    try:
        async for server in serve(settings):
            ws, project_id = await _listening(server, tmp_path)
            async with ws:
                event = EventRecord(
                    None,
                    EventType.VALIDATION_LOG,
                    ProjectId(project_id),
                    {"text": "from elsewhere"},
                    datetime.now(UTC),
                )
                await other.publish([event])
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["data"] == {"text": "from elsewhere"}
    finally:
        await other.close()
