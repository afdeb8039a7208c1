"""The health check says what it saw, in words, as soon as it knows: a service that never
listens, one that answers 500, one that exits. In-process, real sandbox, real HTTP."""

from pathlib import Path

import pytest
from tests.support.projects import make_repository, recipe_text
from tests.support.waiting import run_settled

from codegenapp.db.queries import validations
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import StepName, ValidationStatus
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime
from codegenapp.steps.health import poll_delays

PORT = 4000
SILENT = "import time\ntime.sleep(120)\n"
BROKEN = """\
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"database is not configured")
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
CRASHING = "import sys\nprint('KeyError: APP_PORT', flush=True)\nsys.exit(3)\n"


async def _validate(runtime: Runtime, tmp_path: Path, app: str) -> tuple[str, str]:
    repo = make_repository(tmp_path / "repo", {"app.py": app})
    settings = ProjectSettings(
        deployment_settings=DeploymentSettings(
            deploy_command="python3 app.py",
            health_check_url="/health",
            health_check_timeout_seconds=2,
            port=PORT,
        ),
        validation_settings=ValidationSettings(max_retries=0, validate_base_branch=False),
    )
    project = await project_flows.create_project(
        name=f"health-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe=recipe_text([{"files": {"NOTES": "x\n"}}])),
        settings=settings,
    )
    run = await actions.start_run(project_id=project.id, goal="Anything")
    run = await run_settled(runtime, run.id)
    async with runtime.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
    assert validation.status == ValidationStatus.FAILED
    assert validation.failed_step == StepName.HEALTH_CHECK
    return validation.reason or "", validation.error_context or ""


async def test_a_service_that_never_listens_is_reported_as_such(
    backend: Runtime, tmp_path: Path
) -> None:
    reason, _ = await _validate(backend, tmp_path, SILENT)
    assert reason.startswith(f"GET /health: nothing is listening on port {PORT}, for 2.")
    assert "(polled http://127.0.0.1:" in reason


async def test_a_health_url_answering_500_says_so_and_gives_the_answer(
    backend: Runtime, tmp_path: Path
) -> None:
    reason, context = await _validate(backend, tmp_path, BROKEN)
    assert reason.startswith("GET /health: answered 500 Internal Server Error, for 2.")
    assert "database is not configured" in context


async def test_a_service_that_exits_fails_at_once(backend: Runtime, tmp_path: Path) -> None:
    reason, context = await _validate(backend, tmp_path, CRASHING)
    assert reason == "the service exited with code 3 before GET /health answered 2xx"
    assert "KeyError: APP_PORT" in context


def test_polls_come_every_10_ms_for_two_seconds_then_back_off_to_one_second() -> None:
    delays = poll_delays()
    first = [next(delays) for _ in range(200)]
    assert first[:200] == pytest.approx([0.01] * 200)
    later = [next(delays) for _ in range(30)]
    assert later[0] == pytest.approx(0.015)
    assert later == sorted(later)
    assert later[-1] == 1.0
