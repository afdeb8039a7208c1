"""The `codegenapp` command: serve, worker, demo, db, and a client for a running server.

Bad arguments get one line on stderr and exit code 2; a flow that fails gets exit code 1.
"""

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import httpx
import stamina
import typer
import uvicorn
from pydantic import ValidationError
from typer.exceptions import TyperException

from codegenapp import demo as demo_flow
from codegenapp.settings import Settings, redacted

if TYPE_CHECKING:
    from codegenapp.doctor import Finding
    from codegenapp.flows.runtime import Runtime

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="CodegenApp: goals become agent runs; pull requests are validated and merged.",
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
project_app = typer.Typer(help="Projects, on a running server.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(project_app, name="project")


class Refused(Exception):
    """Bad input, said in one line; exit code 2."""


class Failed(Exception):
    """The command could not do its job, said in one line; exit code 1."""


def _reachable(settings: Settings) -> None:
    """Check the database and Redis before anything starts: one line if they fail."""
    from codegenapp.errors import DependencyUnavailable
    from codegenapp.main import preflight

    try:
        asyncio.run(preflight(settings))
    except DependencyUnavailable as error:
        raise Failed(str(error)) from error


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise Refused(f"setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from error


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="API only; run `codegenapp worker` elsewhere.")
    ] = False,
) -> None:
    """Run the API, the WebSocket, the dashboard and (unless --no-workers) the workflows."""
    from codegenapp.main import create_app

    settings = _settings().model_copy(
        update={key: value for key, value in (("host", host), ("port", port)) if value is not None}
    )
    _reachable(settings)
    _serve(settings, create_app(settings, workers=not no_workers))


def _serve(settings: Settings, asgi: object) -> None:
    # Bound before start-up, so a taken port is reported at once and requests that arrive
    # while the back end starts wait in the backlog instead of being refused.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        raise Failed(
            f"cannot listen on {settings.host}:{settings.port}: {error.strerror}"
        ) from error
    sock.listen(512)
    print(
        f"CodegenApp starting on http://{settings.host}:{settings.port} (home: {settings.home})",
        flush=True,
    )
    config = uvicorn.Config(asgi, log_level="warning")  # type: ignore[arg-type]
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


@app.command()
def worker() -> None:
    """Run workflows only (validations and agent runs), taking work from the shared queues."""
    from codegenapp.main import running

    settings = _settings()
    _reachable(settings)

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running(settings, workers=True):
            print(f"worker {settings.executor_id} taking work", flush=True)
            await stop.wait()

    asyncio.run(work())


@app.command()
def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Run the flow in-process and exit.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary (with --no-serve).")
    ] = False,
    agent: Annotated[
        demo_flow.DemoAgent,
        typer.Option(
            "--agent",
            help="scripted: the recipe replay; cli: a small script run as a command-line agent "
            "in the sandbox (neither is an AI).",
        ),
    ] = "scripted",
) -> None:
    """Run the demo: a goal goes to the agent, its PR fails, is fixed and merged."""
    if as_json and not no_serve:
        raise Refused("--json goes with --no-serve")
    settings = _settings()
    _reachable(settings)
    if no_serve:
        summary = asyncio.run(_demo_in_process(settings, echo=not as_json, agent=agent))
        print(demo_flow.to_json(summary) if as_json else _one_line(summary.report), flush=True)
        if not summary.merged:
            raise Failed("the demo flow did not reach a merge")
        return
    _serve_demo(settings, agent=agent)


async def _demo_in_process(
    settings: Settings, *, echo: bool, agent: demo_flow.DemoAgent
) -> demo_flow.Summary:
    from codegenapp.main import running

    async with running(settings) as runtime:
        return await demo_flow.run_to_end(runtime, echo=echo, agent=agent)


def _one_line(report: Mapping[str, object]) -> str:
    return f"demo finished: {json.dumps(report.get('agent_run'))}"


def _serve_demo(settings: Settings, *, agent: demo_flow.DemoAgent) -> None:
    from fastapi import FastAPI

    from codegenapp.main import TOKEN_FILE, create_app, login_url

    api = create_app(settings)
    serve_lifespan = api.router.lifespan_context

    @asynccontextmanager
    async def serve_with_demo(app_: FastAPI) -> AsyncIterator[None]:
        async with serve_lifespan(app_):
            runtime = app_.state.runtime
            token_file = settings.home / TOKEN_FILE
            if settings.admin_token:
                token: str | None = settings.admin_token.get_secret_value()
            else:
                token = token_file.read_text().strip() if token_file.exists() else None
            if token:
                print(f"Sign in: {login_url(settings, token)}", flush=True)
            run_id = await demo_flow.start(runtime, agent=agent)
            print(f"demo: agent run {run_id} started; following it here", flush=True)
            task = asyncio.create_task(_follow_demo(runtime, settings, run_id))
            yield
            task.cancel()

    api.router.lifespan_context = serve_with_demo
    _serve(settings, api)


async def _follow_demo(runtime: "Runtime", settings: Settings, run_id: int) -> None:
    await demo_flow.follow(runtime, run_id, echo=True, confirm_plan=True)
    print(
        f"demo: done. The server keeps running on http://{settings.host}:{settings.port} "
        f"(Ctrl-C to stop); the demo repository is {settings.home / 'demo' / 'repo'}",
        flush=True,
    )


@app.command()
def doctor(
    isolation: Annotated[
        bool,
        typer.Option(
            "--isolation",
            help="Also attack each isolating sandbox with the isolation checklist "
            "(exit 1 if any probe escapes).",
        ),
    ] = False,
    docker_image: Annotated[
        str | None,
        typer.Option(help="The image the checklist runs in Docker (it needs sh and python3)."),
    ] = None,
) -> None:
    """Say which sandboxes, browsers and services this machine can use, and why not."""
    from codegenapp.doctor import machine_report

    settings = _settings()
    findings = asyncio.run(machine_report(settings))
    for finding in findings:
        print(finding.line())
    if isolation and not asyncio.run(_check_isolation(settings, findings, docker_image)):
        raise Failed("a sandbox let a probe escape (see the lines marked ESCAPED)")


async def _check_isolation(
    settings: Settings, findings: "list[Finding]", docker_image: str | None
) -> bool:
    """Run the checklist against each usable isolating sandbox, in a home of its own; print
    one line per probe; True if every probe was contained."""
    import tempfile

    from codegenapp.doctor.checklist import run_checklist

    usable = {finding.part for finding in findings if finding.usable}
    contained = True
    for kind in ("bubblewrap", "docker"):
        if kind not in usable:
            print(f"{kind:<11} not checked: not usable here")
            continue
        if kind == "docker" and not docker_image:
            print(f"{kind:<11} not checked: give --docker-image (one with sh and python3)")
            continue
        with tempfile.TemporaryDirectory(prefix="codegenapp-doctor-") as home:
            scratch = settings.model_copy(update={"home": Path(home)})
            for probe in await run_checklist(scratch, kind, image=docker_image or ""):
                print(probe.line(kind), flush=True)
                contained = contained and probe.contained
    print("process     not checked: it isolates nothing (NOT ISOLATED), by design")
    return contained


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (the server also does this when it starts)."""
    settings = _settings()
    _reachable(settings)
    print(f"database is up to date: {redacted(settings.app_database_url)}")


# --- the client commands: they talk to a running server -------------------------------------

Server = Annotated[str, typer.Option(envvar="CODEGENAPP_SERVER", help="The server's URL.")]
Token = Annotated[
    str | None,
    typer.Option(envvar="CODEGENAPP_TOKEN", help="Access token (default: <home>/admin-token)."),
]


def _client(server: str, token: str | None) -> httpx.Client:
    if token is None:
        path = _settings().home / "admin-token"
        if not path.exists():
            raise Refused(f"no token: pass --token or set CODEGENAPP_TOKEN (no {path} here)")
        token = path.read_text().strip()
    return httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30, trust_env=False
    )


def _call(client: httpx.Client, method: str, path: str, body: object = None) -> object:
    """One API call. A POST carries an idempotency key and is retried, with the same key, when
    the connection fails: the server makes what it asks for at most once."""
    headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
    try:
        for attempt in stamina.retry_context(
            on=httpx.TransportError, attempts=4, wait_initial=0.5, wait_max=5.0, timeout=60.0
        ):
            with attempt:
                response = client.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as error:
        raise Failed(f"cannot reach {client.base_url}: {error}") from error
    if response.status_code >= 500:
        raise Failed(f"server error {response.status_code}: {_problem(response)}")
    if response.status_code >= 400:
        raise Refused(_problem(response))
    return response.json()


def _problem(response: httpx.Response) -> str:
    """The API's one-line `detail` (every error answer has one), or the start of the text."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return detail if isinstance(detail, str) else response.text[:300]


@project_app.command("add")
def project_add(
    name: str,
    repository: Annotated[Path, typer.Option(help="Path to a local git repository.")],
    recipe: Annotated[
        Path, typer.Option(help="The scripted agent's recipe (YAML), read here and sent.")
    ],
    branch: Annotated[str, typer.Option(help="The default branch.")] = "main",
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="JSON file with deployment_settings, validation_settings, notification_settings.",
        ),
    ] = None,
    server: Server = "http://127.0.0.1:8000",
    token: Token = None,
) -> None:
    """Register a project."""
    body: dict[str, object] = {
        "name": name,
        "repository": str(repository.resolve()),
        "default_branch": branch,
        "agent": {"provider": "scripted", "recipe": _read_recipe(recipe)},
    }
    if settings_file is not None:
        try:
            body.update(json.loads(settings_file.read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise Refused(f"--settings {settings_file}: {error}") from error
    with _client(server, token) as client:
        project = _call(client, "POST", "/api/v1/projects", body)
    assert isinstance(project, dict)
    print(f"project {project['id']} {project['name']}: {project['repository']}")


def _read_recipe(path: Path) -> str:
    """The recipe's text: the server stores it with the project and reads no file of ours."""
    from codegenapp.domain.project_settings import MAX_RECIPE_CHARS
    from codegenapp.files import read_regular_file

    try:
        # Four bytes a character at most: the server counts characters.
        return read_regular_file(path, limit=4 * MAX_RECIPE_CHARS).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise Refused(f"--recipe {path}: {reason}") from error


@project_app.command("list")
def project_list(server: Server = "http://127.0.0.1:8000", token: Token = None) -> None:
    """List projects."""
    with _client(server, token) as client:
        page = _call(client, "GET", "/api/v1/projects?limit=200")
    assert isinstance(page, dict)
    for project in page["items"]:
        print(f"{project['id']:>4}  {project['name']:<24} {project['repository']}")


@app.command("run")
def run_goal(
    goal: str,
    project: Annotated[str, typer.Option(help="Project id or name.")],
    server: Server = "http://127.0.0.1:8000",
    token: Token = None,
) -> None:
    """Start an agent run with GOAL on a project."""
    with _client(server, token) as client:
        project_id = _project_id(client, project)
        run = _call(client, "POST", "/api/v1/agent-runs", {"project_id": project_id, "goal": goal})
    assert isinstance(run, dict)
    print(f"agent run {run['id']} {run['status']}")


def _project_id(client: httpx.Client, project: str) -> int:
    if project.isdigit():
        return int(project)
    page = _call(client, "GET", "/api/v1/projects?limit=200")
    assert isinstance(page, dict)
    for item in page["items"]:
        if item["name"] == project:
            return int(item["id"])
    raise Refused(f"--project: no project named {project!r}")


def _exit(code: int, message: str) -> NoReturn:
    print(f"codegenapp: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def main() -> None:
    # Whatever we (or git, or SQLite, or DBOS) create is ours alone: tokens, keys, databases,
    # clones of private code.
    os.umask(0o077)
    try:
        app(standalone_mode=False)
    except Refused as error:
        _exit(2, str(error))
    except Failed as error:
        _exit(1, str(error))
    except (typer.Abort, KeyboardInterrupt):
        _exit(130, "interrupted")
    except typer.Exit as error:
        sys.exit(error.exit_code)
    except TyperException as error:  # usage errors: unknown command, bad option value, ...
        format_message = getattr(error, "format_message", None)
        message = format_message() if callable(format_message) else str(error)
        _exit(
            getattr(error, "exit_code", 2), message.splitlines()[0] if message else "bad arguments"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
