"""The HTTP API over a real server, on SQLite and on PostgreSQL: names, codes, messages."""

import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from tests.conftest import TEST_TOKEN, Server, SettingsFactory, serve
from tests.support.projects import APP, make_repository, recipe_text
from tests.support.waiting import run_in, run_settled

from codegenapp import __version__
from codegenapp.db.queries import tokens
from codegenapp.domain.states import AgentRunStatus

REPLY: list[dict[str, object]] = [{"reply": "Nothing to do."}]
BRIEF_SETTINGS = json.loads(
    """
{
  "deployment_settings": {
    "build_command": "npm run build",
    "deploy_command": "npm run deploy",
    "health_check_url": "/health",
    "environment_variables": {}
  },
  "validation_settings": {
    "auto_merge": true,
    "required_checks": ["build", "test", "security"],
    "timeout_minutes": 30,
    "max_retries": 3
  },
  "notification_settings": {
    "slack_webhook": "",
    "email_notifications": true,
    "github_status_updates": true
  }
}
"""
)


def _project_body(
    tmp_path: Path, turns: list[dict[str, object]], **extra: object
) -> dict[str, object]:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    recipe = recipe_text(turns)
    body: dict[str, object] = {
        "name": "shop",
        "repository": str(repo),
        "agent": {"provider": "scripted", "recipe": recipe},
    }
    body.update(extra)
    return body


def _field_errors(response: httpx.Response) -> dict[str, str]:
    return {".".join(map(str, item["loc"][1:])): item["msg"] for item in response.json()["errors"]}


async def test_every_route_but_health_needs_the_token(server_: Server) -> None:
    async with httpx.AsyncClient(base_url=server_.url) as anonymous:
        assert (await anonymous.get("/health")).json()["status"] == "ok"
        for path in ("/api/v1/projects", "/api/v1/agent-runs", "/api/v1/validations"):
            response = await anonymous.get(path)
            assert response.status_code == 401
            assert "token" in response.json()["detail"]
        wrong = await anonymous.get("/api/v1/projects", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


async def test_whoami_names_the_callers_token_and_the_server_and_never_the_secret(
    server_: Server, client: httpx.AsyncClient
) -> None:
    other = "another-token-" + "y" * 24
    async with server_.runtime.database.transaction() as session:
        await tokens.add_token(session, name="ci", token=other)

    answer = await client.get("/api/v1/whoami")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"token", "server_version"}
    assert set(body["token"]) == {"id", "name", "created_at", "last_used_at"}
    assert body["token"]["name"] == "admin (CODEGENAPP_ADMIN_TOKEN)"
    assert body["server_version"] == __version__
    assert datetime.fromisoformat(body["token"]["created_at"])
    for secret in (TEST_TOKEN, tokens.digest(TEST_TOKEN)):
        assert secret not in answer.text

    ci = await client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {other}"})
    assert ci.status_code == 200, ci.text
    assert ci.json()["token"]["name"] == "ci"
    assert ci.json()["token"]["id"] != body["token"]["id"]
    for secret in (other, tokens.digest(other), TEST_TOKEN):
        assert secret not in ci.text

    async with httpx.AsyncClient(base_url=server_.url) as anonymous:
        refused = await anonymous.get("/api/v1/whoami", headers={"Authorization": "Bearer no"})
    assert refused.status_code == 401


async def test_the_openapi_document_names_the_briefs_routes(client: httpx.AsyncClient) -> None:
    paths = set((await client.get("/openapi.json")).json()["paths"])
    assert {
        "/api/v1/projects",
        "/api/v1/projects/{project_id}",
        "/api/v1/agent-runs",
        "/api/v1/agent-runs/{run_id}",
        "/api/v1/agent-runs/{run_id}/continue",
        "/api/v1/agent-runs/{run_id}/plan-response",
        "/api/v1/agent-runs/{run_id}/cancel",
        "/api/v1/validations",
        "/api/v1/validations/{validation_id}",
        "/api/v1/validations/{validation_id}/retry",
        "/api/v1/validations/{validation_id}/steps/{step}/log",
    } <= paths


async def test_a_project_takes_the_briefs_settings_exactly_as_written(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    response = await client.post(
        "/api/v1/projects", json=_project_body(tmp_path, REPLY, **BRIEF_SETTINGS)
    )
    assert response.status_code == 201, response.text
    project = response.json()
    for section, values in BRIEF_SETTINGS.items():
        for key, value in values.items():
            assert project[section][key] == value
    assert project["default_branch"] == "main"
    assert project["deployment_settings"]["port"] == 8000

    listed = (await client.get("/api/v1/projects")).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == project["id"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"validation_settings": {"max_retires": 2}},
            "validation_settings.max_retires",
            "Extra inputs",
        ),
        (
            {"validation_settings": {"max_retries": -1}},
            "validation_settings.max_retries",
            "greater than or equal to 0",
        ),
        (
            {"validation_settings": {"required_checks": ["lint"]}},
            "validation_settings.required_checks.0",
            "'build'",
        ),
        (
            {"deployment_settings": {"health_check_url": "health"}},
            "deployment_settings.health_check_url",
            "starting with '/'",
        ),
        (
            {"deployment_settings": {"port": 70000}},
            "deployment_settings.port",
            "less than or equal to 65535",
        ),
        (
            {"deployment_settings": {"environment_variables": {"PORT": "1"}}},
            "deployment_settings.environment_variables",
            "set by the sandbox",
        ),
        (
            {"notification_settings": {"slack_webhook": "http://x"}},
            "notification_settings.slack_webhook",
            "https://",
        ),
        ({"default_branch": "a..b"}, "default_branch", "not a valid git branch name"),
        ({"name": "  "}, "name", "at least 1 character"),
    ],
)
async def test_a_bad_setting_is_a_422_that_names_the_field(
    client: httpx.AsyncClient, tmp_path: Path, change: dict[str, object], field: str, words: str
) -> None:
    response = await client.post("/api/v1/projects", json=_project_body(tmp_path, REPLY, **change))
    assert response.status_code == 422
    errors = _field_errors(response)
    assert field in errors, errors
    assert words in errors[field]
    assert (await client.get("/api/v1/projects")).json()["total"] == 0


async def test_a_repository_that_is_not_a_git_repository_is_refused(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    body = _project_body(tmp_path, REPLY)
    missing = await client.post(
        "/api/v1/projects", json={**body, "repository": str(tmp_path / "nope")}
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = await client.post("/api/v1/projects", json={**body, "repository": str(plain)})
    no_branch = await client.post("/api/v1/projects", json={**body, "default_branch": "develop"})
    bad_recipe = await client.post(
        "/api/v1/projects", json={**body, "agent": {"provider": "scripted", "recipe": "/nope.yaml"}}
    )
    assert [r.status_code for r in (missing, not_git, no_branch, bad_recipe)] == [422] * 4
    assert "repository" in _field_errors(missing)
    assert "repository" in _field_errors(not_git)
    assert "default_branch" in _field_errors(no_branch)
    assert "agent.recipe" in _field_errors(bad_recipe)
    assert (await client.get("/api/v1/projects")).json()["total"] == 0


async def test_a_sandbox_that_cannot_run_here_is_refused_at_the_door(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    nowhere = f"unix://{tmp_path}/no-docker.sock"  # no daemon answers here
    async for server in serve(make_settings(docker_host=nowhere)):
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
            docker = {"sandbox": "docker", "image": "python:3.12-slim"}
            body = _project_body(tmp_path, REPLY, deployment_settings=docker)
            refused = await client.post("/api/v1/projects", json=body)
            assert refused.status_code == 422, refused.text
            reason = _field_errors(refused)["deployment_settings.sandbox"]
            assert "no-docker.sock" in reason, reason
            assert (await client.get("/api/v1/projects")).json()["total"] == 0

            plain = {key: value for key, value in body.items() if key != "deployment_settings"}
            project = await client.post("/api/v1/projects", json=plain)
            url = f"/api/v1/projects/{project.json()['id']}"
            changed = await client.put(url, json={"deployment_settings": docker})
            assert changed.status_code == 422, changed.text
            assert "deployment_settings.sandbox" in _field_errors(changed)
            stored = (await client.get(url)).json()["deployment_settings"]
            assert stored["sandbox"] is None  # nothing half-written


async def test_projects_are_updated_by_section_and_deleted(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    project = (await client.post("/api/v1/projects", json=_project_body(tmp_path, REPLY))).json()
    url = f"/api/v1/projects/{project['id']}"
    updated = await client.put(url, json={"validation_settings": {"max_retries": 1}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["validation_settings"]["max_retries"] == 1
    assert updated.json()["name"] == "shop"

    duplicate = await client.post("/api/v1/projects", json=_project_body(tmp_path / "b", REPLY))
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["detail"]

    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/projects/999"),
        ("GET", "/api/v1/agent-runs/999"),
        ("POST", "/api/v1/agent-runs/999/cancel"),
        ("GET", "/api/v1/validations/999"),
        ("POST", "/api/v1/validations/999/retry"),
        ("GET", "/api/v1/validations/999/steps/deploy/log"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404, (path, response.text)
    run = await client.post("/api/v1/agent-runs", json={"project_id": 999, "goal": "x"})
    assert run.status_code == 404


async def test_an_agent_run_goes_from_plan_to_merge_through_the_api(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    body = _project_body(
        tmp_path,
        [{"plan": "1. Add a file"}, {"files": {"NOTES.md": "notes\n"}, "reply": "Added notes"}],
        deployment_settings={"build_command": "test -f NOTES.md"},
        validation_settings={"required_checks": ["build"]},
    )
    project = (await client.post("/api/v1/projects", json=body)).json()
    early = await client.post("/api/v1/agent-runs/1/plan-response", json={"action": "confirm"})
    assert early.status_code in (404, 409)

    created = await client.post(
        "/api/v1/agent-runs", json={"project_id": project["id"], "goal": "Add notes"}
    )
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    await run_in(server_.runtime, run_id, AgentRunStatus.WAITING_INPUT)

    modify = await client.post(
        f"/api/v1/agent-runs/{run_id}/plan-response", json={"action": "modify"}
    )
    assert modify.status_code == 422
    assert "text" in _field_errors(modify)
    confirm = await client.post(
        f"/api/v1/agent-runs/{run_id}/plan-response", json={"action": "confirm"}
    )
    assert confirm.status_code == 202
    again = await client.post(
        f"/api/v1/agent-runs/{run_id}/plan-response", json={"action": "confirm"}
    )
    assert again.status_code == 409
    await run_settled(server_.runtime, run_id)

    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert run["status"] == "completed", run
    assert run["response_type"] == "pr"
    assert run["pull_request"]["merged"] is True
    assert run["agent"] == {"driver": "scripted", "job_id": run["agent"]["job_id"], "is_ai": False}
    [validation_id] = run["validations"]
    validation = (await client.get(f"/api/v1/validations/{validation_id}")).json()
    assert validation["status"] == "passed"
    assert [step["name"] for step in validation["steps"]] == [
        "snapshot",
        "clone",
        "deploy",
        "health_check",
        "web_eval",
        "cleanup",
    ]
    assert validation["checks"]["build"] == "passed"
    log = await client.get(f"/api/v1/validations/{validation_id}/steps/deploy/log")
    assert log.headers["content-type"].startswith("text/plain")
    assert "build: $ test -f NOTES.md" in log.text

    listed = (await client.get("/api/v1/validations", params={"agent_run_id": run_id})).json()
    assert listed["total"] == 1
    finished = (await client.get("/api/v1/agent-runs", params={"status": "completed"})).json()
    assert [item["id"] for item in finished["items"]] == [run_id]
    retry = await client.post(f"/api/v1/validations/{validation_id}/retry")
    assert retry.status_code == 409
    assert "already merged" in retry.json()["detail"]
    again_continue = await client.post(f"/api/v1/agent-runs/{run_id}/cancel")
    assert again_continue.status_code == 409


async def test_lists_refuse_bad_paging(client: httpx.AsyncClient) -> None:
    for params in ({"limit": 0}, {"limit": 1000}, {"offset": -1}, {"status": "sleeping"}):
        response = await client.get("/api/v1/agent-runs", params=params)
        assert response.status_code == 422, params
