"""The server's own commands: serve, worker, demo, doctor, db. They run the back end here;
the client commands talk to one over HTTP."""

import asyncio
import json
import signal
import socket
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from codegenapp.cli.credentials import server_settings
from codegenapp.cli.errors import BadInput, Failed
from codegenapp.settings import Settings, redacted

if TYPE_CHECKING:
    from codegenapp.demo import Summary
    from codegenapp.doctor import Finding

# The demo's agents (codegenapp.demo.DemoAgent), spelled here so that `--help` and the client
# commands do not import the whole back end.
DemoAgent = Literal["scripted", "cli"]
db_app = typer.Typer(help="The database.", no_args_is_help=True)


def _reachable(settings: Settings) -> None:
    """Check the database and Redis before anything starts: one line if they fail."""
    from codegenapp.errors import DependencyUnavailable
    from codegenapp.main import preflight

    try:
        asyncio.run(preflight(settings))
    except DependencyUnavailable as error:
        raise Failed(str(error)) from error


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="API only; run `codegenapp worker` elsewhere.")
    ] = False,
) -> None:
    """Run the API, the WebSocket, the dashboard and (unless --no-workers) the workflows.

    Example: codegenapp serve --host 0.0.0.0 --port 8000
    """
    from codegenapp.main import create_app

    settings = server_settings().model_copy(
        update={key: value for key, value in (("host", host), ("port", port)) if value is not None}
    )
    _reachable(settings)
    _serve(settings, create_app(settings, workers=not no_workers))


def _serve(settings: Settings, asgi: object) -> None:
    import uvicorn

    # Bound before start-up, so a taken port is reported at once and requests that arrive
    # while the back end starts wait in the backlog instead of being refused.
    sock = _listen(settings.host, settings.port)
    print(
        f"CodegenApp starting on http://{settings.host}:{settings.port} (home: {settings.home})",
        flush=True,
    )
    config = uvicorn.Config(asgi, log_level="warning")  # type: ignore[arg-type]
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (0: any free port); `Failed` if it is taken."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        raise Failed(f"cannot listen on {host}:{port}: {error.strerror}") from error
    sock.listen(512)
    return sock


def worker() -> None:
    """Run workflows only (validations and agent runs), taking work from the shared queues.

    Example: DATABASE_URL=postgresql://db/codegenapp codegenapp worker
    """
    from codegenapp.main import running

    settings = server_settings()
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


def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Run the flow in-process and exit.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary (with --no-serve).")
    ] = False,
    agent: Annotated[
        DemoAgent,
        typer.Option(
            "--agent",
            help="scripted: the recipe replay; cli: a small script run as a command-line agent "
            "in the sandbox (neither is an AI).",
        ),
    ] = "scripted",
) -> None:
    """Run the demo: a goal goes to the agent, its PR fails, is fixed and merged.

    Example: codegenapp demo --no-serve --json
    """
    from codegenapp import demo as demo_flow

    if as_json and not no_serve:
        raise BadInput("--json goes with --no-serve")
    settings = server_settings()
    _reachable(settings)
    if no_serve:
        shown = _demo_in_process if as_json else _demo_in_view
        summary = asyncio.run(shown(settings, agent=agent))
        print(demo_flow.to_json(summary) if as_json else _one_line(summary.report), flush=True)
        if not summary.merged:
            raise Failed("the demo flow did not reach a merge")
        return
    _serve_demo(settings, agent=agent)


async def _demo_in_process(settings: Settings, *, agent: DemoAgent) -> "Summary":
    from codegenapp import demo as demo_flow
    from codegenapp.main import running

    async with running(settings) as runtime:
        return await demo_flow.run_to_end(runtime, agent=agent)


async def _demo_in_view(settings: Settings, *, agent: DemoAgent) -> "Summary":
    """The flow in-process, shown in the live view of `codegenapp runs follow`: over the API,
    served for the while on a loopback port of its own (no lifespan: it shares this back end)."""
    import uvicorn

    from codegenapp import demo as demo_flow
    from codegenapp.main import create_app, ensure_admin_token, running

    sock = _listen("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with running(settings) as runtime:
        await ensure_admin_token(runtime)
        api = create_app(settings)
        api.state.runtime = runtime
        server = uvicorn.Server(uvicorn.Config(api, lifespan="off", log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            run_id = await demo_flow.start(runtime, agent=agent)
            watching = _watch_in_thread(url, _admin_token(settings), run_id)
            await asyncio.wait_for(
                demo_flow.run_until_done(runtime, run_id), demo_flow.RUN_TIMEOUT_SEC
            )
            # The view ends with the run, after its last events: let it print them.
            await asyncio.get_running_loop().run_in_executor(None, watching.join, 30)
        finally:
            server.should_exit = True
            await serving
        return await demo_flow.summarize(runtime, run_id)


def _one_line(report: Mapping[str, object]) -> str:
    return f"demo finished: {json.dumps(report.get('agent_run'))}"


def _admin_token(settings: Settings) -> str | None:
    """The token the demo follows its run with: the configured admin token, or the one the
    server keeps in its home."""
    from codegenapp.main import TOKEN_FILE

    if settings.admin_token:
        return settings.admin_token.get_secret_value()
    token_file = settings.home / TOKEN_FILE
    if not token_file.exists():
        return None
    return token_file.read_text().strip() or None


def _serve_demo(settings: Settings, *, agent: DemoAgent) -> None:
    from fastapi import FastAPI

    from codegenapp import demo as demo_flow
    from codegenapp.main import create_app, login_url

    api = create_app(settings)
    serve_lifespan = api.router.lifespan_context

    @asynccontextmanager
    async def serve_with_demo(app_: FastAPI) -> AsyncIterator[None]:
        async with serve_lifespan(app_):
            runtime = app_.state.runtime
            token = _admin_token(settings)
            if token:
                print(f"Sign in: {login_url(settings, token)}", flush=True)
            run_id = await demo_flow.start(runtime, agent=agent)
            print(f"demo: agent run {run_id} started; following it here", flush=True)
            # The plan is confirmed in-process, as a person would; the run is shown by the
            # live view of `codegenapp runs follow`, over this server's own API.
            task = asyncio.create_task(demo_flow.run_until_done(runtime, run_id))
            host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
            url = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"
            _watch_in_thread(url, token, run_id, then=_served_demo_done(settings))
            yield
            task.cancel()

    api.router.lifespan_context = serve_with_demo
    _serve(settings, api)


def _served_demo_done(settings: Settings) -> str:
    return (
        f"demo: done. The server keeps running on http://{settings.host}:{settings.port} "
        f"(Ctrl-C to stop); the demo repository is {settings.home / 'demo' / 'repo'}"
    )


def _watch_in_thread(
    url: str, token: str | None, run_id: int, *, then: str = ""
) -> threading.Thread:
    """The demo's run in the CLI's live view, until it ends, then the line `then`. A daemon
    thread: its requests wait in the listening socket's backlog until the server answers, and
    it dies with the process (an interrupted demo does not wait for it)."""
    thread = threading.Thread(target=_watch_demo, args=(url, token, run_id, then), daemon=True)
    thread.start()
    return thread


def _watch_demo(url: str, token: str | None, run_id: int, then: str) -> None:
    from codegenapp.cli.client import Client
    from codegenapp.cli.credentials import Target
    from codegenapp.cli.follow import follow_run

    if token is None:
        print(
            "demo: no admin token (CODEGENAPP_ADMIN_TOKEN, or admin-token in the home) to "
            f"follow agent run {run_id} with; it goes on, see it in the dashboard",
            flush=True,
        )
        return
    try:
        with Client(Target(url, token, "the demo", "the demo")) as client:
            follow_run(
                client,
                run_id,
                as_json=False,
                interactive=False,
                answered_by="demo: the plan is confirmed for you, as you would at the prompt of "
                "`codegenapp run` or in the dashboard",
            )
    except (BadInput, Failed) as error:
        print(f"demo: stopped following the run: {error}", flush=True)
        return
    if then:
        print(then, flush=True)


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
    """Say which sandboxes, browsers and services this machine can use, and why not.

    Example: codegenapp doctor --isolation
    """
    from codegenapp.doctor import machine_report

    settings = server_settings()
    findings = asyncio.run(machine_report(settings))
    for finding in findings:
        print(finding.line())
    if isolation and not asyncio.run(_check_isolation(settings, findings, docker_image)):
        raise Failed("a sandbox let a probe escape (see the lines marked ESCAPED)")


async def _check_isolation(
    settings: Settings, findings: "list[Finding]", docker_image: str | None
) -> bool:
    """Run the checklist against each usable isolating sandbox and the browser, each in a home
    of its own; print one line per probe; True if every probe was contained."""
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
    return await _check_browser(settings, usable) and contained


async def _check_browser(settings: Settings, usable: "set[str]") -> bool:
    """The browser's checklist (a hostile preview page), in a home of its own; True if every
    probe was contained or the browser cannot run here (then `doctor` said so above)."""
    import tempfile

    from codegenapp.doctor.browser_checklist import run_browser_checklist

    if "browser" not in usable:
        print(f"{'browser':<11} not checked: not usable here")
        return True
    with tempfile.TemporaryDirectory(prefix="codegenapp-doctor-") as home:
        scratch = settings.model_copy(update={"home": Path(home)})
        probes = await run_browser_checklist(scratch)
    for probe in probes:
        print(probe.line("browser"), flush=True)
    return all(probe.contained for probe in probes)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (the server also does this when it starts).

    Example: DATABASE_URL=postgresql://db/codegenapp codegenapp db upgrade
    """
    settings = server_settings()
    _reachable(settings)
    print(f"database is up to date: {redacted(settings.app_database_url)}")
