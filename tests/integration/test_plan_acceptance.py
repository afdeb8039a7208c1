"""The acceptance checks of a confirmed plan, played as browser scenarios on the pull request's
preview: real Chromium, a preview deployed by the real flow in the real (default) sandbox, the
scripted agent proposing the plan, and a person confirming it."""

import json
import textwrap
from pathlib import Path

import httpx
from tests.conftest import Server
from tests.support.projects import make_repository, recipe_text
from tests.support.waiting import run_in, run_settled

from codegenapp.db.queries import validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import AgentRunStatus, CheckName, StepName, ValidationStatus
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows

# The preview: /health, and / showing PAGE.
APP = textwrap.dedent(
    """\
    import os
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    PAGE = {page!r}


    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            status, body = (200, "ok") if path == "/health" else (200, PAGE)
            if path not in ("/", "/health"):
                status, body = 404, "not found"
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass


    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
    """
)
SHOP = "<html><body><h1>Shop</h1><p>Your cart is empty</p></body></html>"
PLAN = """\
Here is my plan:
1. Add a "Buy now" button to the shop's page in `web.py`.
2. Open a pull request.

```acceptance
- name: Buy now
  steps:
    - goto: /
    - click: Buy now
    - expect_text: Thank you
```
"""
OWN_SCENARIO = {"name": "Shop", "steps": [{"goto": "/"}, {"expect_text": "Shop"}]}


async def _validate(
    server: Server, tmp_path: Path, plan: str, page: str
) -> tuple[AgentRunStatus, ValidationRow]:
    """A run whose agent proposes `plan`, which a person confirms, then opens a pull request
    whose preview shows `page`; the run's end and its one validation."""
    repo = make_repository(tmp_path / "repo", {"web.py": APP.format(page=SHOP)})
    web_eval = WebEvalSettings.model_validate({"pages": [], "scenarios": [OWN_SCENARIO]})
    project = await project_flows.create_project(
        name=f"plan-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(
            recipe=recipe_text([{"plan": plan}, {"files": {"web.py": APP.format(page=page)}}])
        ),
        settings=ProjectSettings(
            deployment_settings=DeploymentSettings(
                deploy_command="python3 web.py", health_check_url="/health", port=9000
            ),
            validation_settings=ValidationSettings(
                required_checks=[CheckName.HEALTH, CheckName.WEB_EVAL],
                max_retries=0,
                validate_base_branch=False,
                web_eval=web_eval,
            ),
        ),
    )
    run = await actions.start_run(project_id=project.id, goal="Let people buy")
    await run_in(server.runtime, run.id, AgentRunStatus.WAITING_INPUT)
    await actions.answer_plan(run.id, action="confirm", text="")
    run = await run_settled(server.runtime, run.id, timeout=180)
    async with server.runtime.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
    return AgentRunStatus(run.status), validation


async def _get(server: Server, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as api:
        response = await api.get(path)
    assert response.status_code == 200, response.text
    return response


async def test_a_button_the_plan_promised_and_the_page_lacks_fails_web_eval_from_the_plan(
    server: Server, tmp_path: Path
) -> None:
    status, validation = await _validate(server, tmp_path, PLAN, SHOP)

    assert status is AgentRunStatus.FAILED
    assert (validation.status, validation.failed_step) == (
        ValidationStatus.FAILED,
        StepName.WEB_EVAL,
    )
    assert (validation.reason or "").startswith(
        'scenario "from the plan: Buy now" failed at step 1 (click "Buy now"): expected a '
        'button, link or text named "Buy now" to click; nothing by that name could be clicked'
    )
    context = validation.error_context or ""
    assert '"from the plan: Buy now": failed at step 1' in context
    assert '"Shop": passed' in context  # the project's own scenario ran first, and passed
    log = (await _get(server, f"/api/v1/validations/{validation.id}/steps/web_eval/log")).text
    assert "2 scenarios (1 from the plan)" in log
    findings = (
        await _get(server, f"/api/v1/validations/{validation.id}/artifacts/findings.json")
    ).json()
    assert findings["passed"] is False
    assert findings["plan"] == {"first_scenario": 1, "notes": []}
    runs = findings["evaluation"]["scenarios"]
    assert [(run["name"], run["from_plan"]) for run in runs] == [
        ("Shop", False),
        ("from the plan: Buy now", True),
    ]
    kept = (await _get(server, f"/api/v1/validations/{validation.id}")).json()["artifacts"]
    assert {"scenario-0.png", "scenario-1.png"} <= {artifact["name"] for artifact in kept}


async def test_a_malformed_acceptance_block_is_a_note_and_the_rest_is_still_judged(
    server: Server, tmp_path: Path
) -> None:
    broken = "```acceptance\n- name: Pay\n  steps: [{goto: /}, {click: Pay}\n```\n"
    page = (
        "<html><body><h1>Shop</h1><button onclick=\"document.body.append('Thank you')\">"
        "Buy now</button></body></html>"
    )
    status, validation = await _validate(server, tmp_path, broken + PLAN, page)

    assert status is AgentRunStatus.COMPLETED
    assert validation.status == ValidationStatus.PASSED
    findings = (
        await _get(server, f"/api/v1/validations/{validation.id}/artifacts/findings.json")
    ).json()
    [note] = findings["plan"]["notes"]
    assert note.startswith(
        "the plan's acceptance checks could not be read: block 1: not valid YAML or JSON: "
    )
    runs = findings["evaluation"]["scenarios"]
    assert [(run["name"], run["from_plan"]) for run in runs] == [
        ("Shop", False),
        ("from the plan: Buy now", True),
    ]
    assert all(step["passed"] for run in runs for step in run["steps"])
    read = (await _get(server, f"/api/v1/validations/{validation.id}")).json()
    [step] = [step for step in read["steps"] if step["name"] == "web_eval"]
    assert "some of the plan's acceptance checks were not run (see the log)" in json.dumps(step)
    log = (await _get(server, f"/api/v1/validations/{validation.id}/steps/web_eval/log")).text
    assert f"Not run from the plan:\n  - {note}" in log
