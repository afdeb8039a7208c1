"""What the GitHub suites share: a real server wired to the fake GitHub (the fake's API as
GITHUB_API_URL, its webhooks subscribed with the server's secret), and a project on it."""

from collections.abc import AsyncIterator

import httpx
from tests.conftest import Server, SettingsFactory, serve
from tests.fakes.github import FakeGitHub

REPO = "acme/app"
SECRET = "webhook-secret-for-tests"


async def serve_on(
    make_settings: SettingsFactory, github: FakeGitHub, **settings: object
) -> AsyncIterator[Server]:
    """A server that talks to `github` (with a token of acme's unless `settings` name an
    App) and that `github` sends its webhooks to, for as long as the iteration lasts."""
    wired: dict[str, object] = {"github_api_url": github.api_url, "github_webhook_secret": SECRET}
    if "github_app_id" not in settings:
        wired["github_token"] = github.personal_token("acme")
    async for running in serve(make_settings(**wired, **settings)):
        github.subscribe(f"{running.url}/api/v1/webhooks/github", SECRET)
        yield running


async def create_project(server: Server, **fields: object) -> int:
    """A GitHub project on `REPO`, created through the API; `fields` add to or replace the
    body's (settings sections, the agent)."""
    body = {
        "name": "app",
        "forge": "github",
        "repository": REPO,
        "agent": {"recipe": "- reply: hello\n"},
        **fields,
    }
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        created = await client.post("/api/v1/projects", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])
