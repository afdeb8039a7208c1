"""A real server process killed with SIGKILL the moment it has acknowledged a GitHub delivery,
before it could act on it, then started again: the delivery it stored is acted on, and its
pull request is validated exactly once."""

import asyncio
import os
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from tests.conftest import TEST_TOKEN, free_port
from tests.fakes.github import FakeGitHub
from tests.support.github import REPO, SECRET
from tests.support.processes import codegenapp
from tests.support.projects import APP

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": f"Bearer {TEST_TOKEN}"}


def _server(
    home: Path, port: int, github: FakeGitHub
) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    env = {
        "CODEGENAPP_HOME": str(home),
        "CODEGENAPP_ADMIN_TOKEN": TEST_TOKEN,
        "CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "GITHUB_API_URL": github.api_url,
        "GITHUB_TOKEN": github.personal_token("acme"),
        "GITHUB_WEBHOOK_SECRET": SECRET,
    }
    return codegenapp("serve", "--port", str(port), env=env, ready="Ready on")


async def _validations(api: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=api, headers=HEADERS) as client:
        items: list[dict[str, object]] = (await client.get("/api/v1/validations")).json()["items"]
    return items


async def _validated(api: str, head: str) -> list[dict[str, object]]:
    """The validations of `head`, once one of them has ended."""
    for _ in range(1200):
        found = [v for v in await _validations(api) if v["head_sha"] == head]
        if any(v["finished_at"] for v in found):
            return found
        await asyncio.sleep(0.05)  # polling a real process from outside: no event to await
    raise AssertionError(f"{head} was never validated")


async def test_a_delivery_acknowledged_just_before_a_kill_is_acted_on_after_the_restart(
    tmp_path: Path,
) -> None:
    home, port = tmp_path / "home", free_port()
    api = f"http://127.0.0.1:{port}"
    async with FakeGitHub(tmp_path) as github:
        await github.create_repository(REPO, files={"app.py": APP})
        async with _server(home, port, github) as server:
            async with httpx.AsyncClient(base_url=api, headers=HEADERS) as client:
                created = await client.post(
                    "/api/v1/projects",
                    json={
                        "name": "app",
                        "forge": "github",
                        "repository": REPO,
                        "agent": {"recipe": "- reply: hi\n"},
                        "deployment_settings": {"build_command": "true"},
                        "validation_settings": {"validate_base_branch": False},
                    },
                )
                assert created.status_code == 201, created.text
            github.subscribe(f"{api}/api/v1/webhooks/github", SECRET)
            head = await github.push(REPO, "feature", {"app.py": APP + "# more\n"}, "More")
            await github.deliveries_sent()
            github.lose_next_delivery()  # held back: the test delivers it, then kills the server
            await github.open_pull_request(REPO, "feature", "main", "More", "outsider")
            delivery = github.deliveries[-1]
            async with httpx.AsyncClient(base_url=api) as hook:
                answer = await hook.post(
                    "/api/v1/webhooks/github", content=delivery.body, headers=delivery.headers
                )
            os.killpg(server.pid, signal.SIGKILL)  # the moment the 2xx is in
            await server.wait()
        assert answer.status_code == 202, answer.text

        async with _server(home, port, github):
            found = await _validated(api, head)
            again = [v for v in await _validations(api) if v["head_sha"] == head]
    assert len(found) == len(again) == 1, again
    assert again[0]["status"] == "passed", again[0]
    assert again[0]["pull_request"]["author"] == "outsider"
