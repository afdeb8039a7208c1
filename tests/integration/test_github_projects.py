"""A project can be a GitHub repository: created through the API against the fake GitHub over
HTTP, its name stored in the one spelling webhooks use, refused with the field named when
GitHub cannot be used."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory, serve
from tests.fakes.github import FakeGitHub

REPO = "acme/app"
RECIPE = "- reply: hello\n"


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": "print('hello')\n"})
        yield fake


@pytest.fixture
async def server(make_settings: SettingsFactory, github: FakeGitHub) -> AsyncIterator[Server]:
    settings = make_settings(
        github_api_url=github.api_url,
        github_token=github.personal_token("acme"),
    )
    async for running in serve(settings):
        yield running


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        yield client


def body(repository: str, **extra: object) -> dict[str, object]:
    settings = {"validation_settings": {"validate_base_branch": False}}
    return {
        "name": "app",
        "repository": repository,
        "agent": {"recipe": RECIPE},
        **settings,
        **extra,
    }


def field_errors(response: httpx.Response) -> dict[str, str]:
    return {".".join(map(str, e["loc"][1:])): e["msg"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    ("repository", "forge"),
    [
        ("acme/app", {"forge": "github"}),
        ("https://github.com/acme/app", {}),  # an https address means GitHub
        ("https://github.com/acme/app.git", {"forge": "github"}),
    ],
)
async def test_a_github_project_is_stored_as_owner_and_name_whatever_form_was_typed(
    client: httpx.AsyncClient, github: FakeGitHub, repository: str, forge: dict[str, str]
) -> None:
    created = await client.post("/api/v1/projects", json=body(repository, **forge))
    assert created.status_code == 201, created.text
    project = created.json()
    assert (project["forge"], project["repository"]) == ("github", REPO)
    checked = [r for r in github.requests if r.path == f"/repos/{REPO}"]
    assert checked, "the repository was not checked on GitHub"


async def test_a_path_stays_a_local_project(client: httpx.AsyncClient, tmp_path: Path) -> None:
    refused = await client.post("/api/v1/projects", json=body(str(tmp_path / "nowhere")))
    assert refused.status_code == 422
    assert "repository" in field_errors(refused)  # the local forge checked it, not GitHub


async def test_a_github_project_that_github_cannot_give_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.post("/api/v1/projects", json=body("acme/missing", forge="github"))
    no_branch = await client.post(
        "/api/v1/projects", json=body(REPO, forge="github", default_branch="trunk")
    )
    not_a_name = await client.post("/api/v1/projects", json=body("acme", forge="github"))
    assert [r.status_code for r in (missing, no_branch, not_a_name)] == [422] * 3
    assert "not reachable with GITHUB_TOKEN" in field_errors(missing)["repository"]
    assert "default_branch" in field_errors(no_branch)
    assert "OWNER/NAME" in field_errors(not_a_name)["repository"]
    assert (await client.get("/api/v1/projects")).json()["total"] == 0


async def test_without_github_credentials_a_github_project_is_refused_naming_forge(
    make_settings: SettingsFactory,
) -> None:
    async for server in serve(make_settings()):
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
            refused = await client.post("/api/v1/projects", json=body(REPO, forge="github"))
        assert refused.status_code == 422
        assert "GITHUB_TOKEN" in field_errors(refused)["forge"]
