"""Schemathesis over the server's own OpenAPI document, against a real `codegenapp serve` with
real rows to reach: no server error, no answer outside the schema, no undocumented status, no
route that ignores its token, on every operation, with stateful sequences."""

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from tests.conftest import TEST_TOKEN, free_port
from tests.support.processes import codegenapp
from tests.support.projects import APP, make_repository, recipe_text

pytestmark = pytest.mark.slow

# Every check schemathesis has but one: `positive_data_acceptance` expects any schema-valid
# body to be accepted, and ours depend on the server's state (a repository must exist under
# its roots, a plan modification needs text, a name must be free). Those refusals are 4xx
# with the field named, and the other checks hold them to the documented shape.
EXCLUDED_CHECKS = "positive_data_acceptance"
EXAMPLES_PER_OPERATION = 25
CONFIG = """\
[dictionaries.projects]
values = {projects}
[dictionaries.runs]
values = {runs}
[dictionaries.validations]
values = {validations}
[dictionaries.names]
values = ["DEPLOY_KEY", "findings.json", "page-0.png", "page-0.txt"]

[parameters]
"path.project_id" = {{ dictionary = "projects", probability = 0.5 }}
"query.project_id" = {{ dictionary = "projects", probability = 0.5 }}
"path.run_id" = {{ dictionary = "runs", probability = 0.5 }}
"query.agent_run_id" = {{ dictionary = "runs", probability = 0.5 }}
"path.validation_id" = {{ dictionary = "validations", probability = 0.5 }}
"query.validation_id" = {{ dictionary = "validations", probability = 0.5 }}
"path.name" = {{ dictionary = "names", probability = 0.5 }}
"""


async def _until_event(ws_url: str, kinds: set[str]) -> dict[str, object]:
    async with websockets.connect(f"{ws_url}?token={TEST_TOKEN}&since=0") as ws:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] in kinds:
                return dict(message)


async def _seed(api: str, ws_url: str, repo: Path) -> dict[str, list[int]]:
    """A project whose run planned, opened a pull request, validated (its preview evaluated
    in the browser, so that it kept artifacts) and merged; a second project; a secret. The
    fuzzer then reaches real rows half of the time."""
    headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
    recipe = recipe_text([{"plan": "1. Add notes"}, {"files": {"NOTES.md": "notes\n"}}])
    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=30) as client:
        first = await client.post(
            "/api/v1/projects",
            json={
                "name": "fuzzed",
                "repository": str(repo),
                "agent": {"recipe": recipe},
                "deployment_settings": {
                    "build_command": "true",
                    "deploy_command": "python3 app.py",
                    "health_check_url": "/health",
                },
                "validation_settings": {
                    "required_checks": ["build", "web_eval"],
                    "web_eval": {"pages": ["/health"]},
                },
            },
        )
        assert first.status_code == 201, first.text
        project_id = first.json()["id"]
        second = await client.post(
            "/api/v1/projects",
            json={"name": "other", "repository": str(repo), "agent": {"recipe": "- reply: hi\n"}},
        )
        assert second.status_code == 201, second.text
        secret = await client.post(
            f"/api/v1/projects/{project_id}/secrets",
            json={"name": "DEPLOY_KEY", "value": "fuzz-secret-value"},
        )
        assert secret.status_code == 201, secret.text
        run = (
            await client.post("/api/v1/agent-runs", json={"project_id": project_id, "goal": "g"})
        ).json()
        await _until_event(ws_url, {"agent_run_plan_ready"})
        answered = await client.post(
            f"/api/v1/agent-runs/{run['id']}/plan-response", json={"action": "confirm"}
        )
        assert answered.status_code == 202, answered.text
        await _until_event(ws_url, {"agent_run_completed"})
        validations = (await client.get("/api/v1/validations")).json()["items"]
    assert validations, "the seeded run validated nothing"
    assert any(v["artifacts"] for v in validations), "no seeded validation kept an artifact"
    return {
        "projects": [project_id, second.json()["id"]],
        "runs": [run["id"]],
        "validations": [v["id"] for v in validations],
    }


@pytest.mark.timeout(900)  # every operation fuzzed: 3-4 min on a quiet 2-core machine
async def test_schemathesis_finds_no_error_on_any_operation(
    tmp_path: Path, database_url: str | None
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    port = free_port()
    api, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    env = {
        "CODEGENAPP_HOME": str(tmp_path / "home"),
        "CODEGENAPP_REPOSITORY_ROOTS": str(tmp_path),
        "CODEGENAPP_ADMIN_TOKEN": TEST_TOKEN,
        "CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "CODEGENAPP_RUN_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "CODEGENAPP_AGENT_POLL_INTERVAL_SEC": "0.02",
        "GITHUB_WEBHOOK_SECRET": "fuzz-webhook-secret",  # the webhook route checks signatures
        **({"DATABASE_URL": database_url} if database_url else {}),
    }
    async with codegenapp("serve", "--port", str(port), env=env, ready="Ready on") as server:
        ids = await _seed(api, ws_url, repo)
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG.format(**{k: json.dumps(v) for k, v in ids.items()}))
        fuzz = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(config),
            "--no-color",
            "run",
            f"{api}/openapi.json",
            "--header",
            f"Authorization: Bearer {TEST_TOKEN}",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "20261201",
            "--workers",
            "2",
            "--report-dir",
            str(tmp_path / "report"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        output, _ = await asyncio.wait_for(fuzz.communicate(), 600)
        health = httpx.get(f"{api}/health", timeout=5)
        assert server.returncode is None, "the server died under the fuzzer"
    report = output.decode(errors="replace")
    (tmp_path / "report.txt").write_text(report)
    assert fuzz.returncode == 0, report[-6000:]
    assert "Tested: " in report
    assert health.status_code == 200
