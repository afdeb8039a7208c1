"""The one place that wires things together: settings → database, bus, drivers, workflows,
and the FastAPI app that serves them."""

import asyncio
import contextlib
import gc
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import stamina
from dbos import DBOS, DBOSConfig
from dbos import _dbos as dbos_internals
from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from starlette.types import Scope

from codegenapp import __version__, artifacts
from codegenapp.api import errors, ui
from codegenapp.api.deps import TokenCheck, require_token
from codegenapp.api.docs import ASSETS as DOCS_ASSETS
from codegenapp.api.docs import mount_docs
from codegenapp.api.edge import Gate, SecurityHeaders
from codegenapp.api.routes import (
    agent_runs,
    events,
    project_secrets,
    projects,
    validations,
    webhooks,
)
from codegenapp.api.routes import tokens as token_routes
from codegenapp.api.ws import CATCH_UP_SLOTS
from codegenapp.api.ws import router as ws_router
from codegenapp.bus import Bus
from codegenapp.bus.memory import MemoryBus
from codegenapp.bus.redis import RedisBus
from codegenapp.db import migrate
from codegenapp.db.engine import Database
from codegenapp.db.queries import tokens
from codegenapp.domain.masking import looks_secret
from codegenapp.domain.secret_box import SecretBox
from codegenapp.domain.webhooks import MAX_DELIVERY_BYTES
from codegenapp.drivers.registry import Registry
from codegenapp.errors import DependencyUnavailable
from codegenapp.files import (
    PRIVATE_FILE,
    make_private_dir,
    read_regular_file,
    touch_private,
    write_private,
)
from codegenapp.flows import forge_reports, reconcile
from codegenapp.flows.actions import RUN_QUEUE
from codegenapp.flows.forge_sweep import sweep_forever
from codegenapp.flows.runtime import Runtime, bind
from codegenapp.flows.validation import BASELINE_QUEUE
from codegenapp.flows.validation import QUEUE as VALIDATION_QUEUE
from codegenapp.settings import Settings, redacted

log = logging.getLogger(__name__)
TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a secret
SECRET_KEY_FILE = "secret-key"  # noqa: S105 - a file name, not a secret
WORKFLOW_STOP_SEC = 10  # for a cancelled workflow to leave its step (a subprocess to be killed)


def host_secrets(settings: Settings) -> tuple[str, ...]:
    """Our own credentials: they must never show up in a stored or streamed log."""
    found = [value for name, value in os.environ.items() if looks_secret(name) and value]
    for secret in (settings.admin_token, settings.llm_api_key):
        if secret and secret.get_secret_value():
            found.append(secret.get_secret_value())
    for url in (settings.database_url, settings.redis_url):
        password = urlsplit(url).password if url else None
        if password:
            found.append(password)
    return tuple(found)


async def preflight(settings: Settings) -> None:
    """Reach the database (and bring its schema up to date) and Redis, or raise
    `DependencyUnavailable` with one clear sentence. Run before serving, so that a wrong URL
    is reported as such rather than as a start-up traceback."""
    prepare_home(settings)
    load_secret_key(settings)
    try:
        await migrate.upgrade(settings.app_database_url)
    except (OSError, DBAPIError) as error:
        raise DependencyUnavailable(
            f"cannot use the database {redacted(settings.app_database_url)}: {_reason(error)}"
        ) from error
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=5)
        try:
            await client.ping()
        except (OSError, RedisError) as error:
            raise DependencyUnavailable(
                f"cannot reach Redis at {redacted(settings.redis_url)}: {_reason(error)}"
            ) from error
        finally:
            await client.aclose()


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__


async def _open_bus(settings: Settings) -> Bus:
    if settings.redis_url is None:
        return MemoryBus()
    bus = RedisBus(settings.redis_url, channel=settings.redis_channel)
    await bus.start()
    return bus


def prepare_home(settings: Settings) -> None:
    """Make the home and its directories 0700 and our files in it 0600, before anything is
    written there. Sandboxed code runs as root on the host side of its user namespace and could
    leave a setuid file in its work area; the home holds the database, the secret key and the
    token: no other user of the machine may reach into it."""
    for directory in (settings.home, settings.work_dir, settings.state_dir):
        make_private_dir(directory)
    if settings.database_url is None or settings.database_url.startswith("sqlite"):
        # SQLite gives its -wal and -shm files the mode of the database file.
        for url in (settings.app_database_url, settings.workflow_database_url):
            database_file = Path(url.split("///", 1)[1])
            if database_file.parent.is_dir():
                touch_private(database_file)
    for path in settings.home.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(PRIVATE_FILE)


def load_secret_key(settings: Settings) -> bytes:
    """CODEGENAPP_SECRET_KEY, or the key generated once into the home (0600). Every server
    and worker that shares a database must use the same key: set the variable for those.
    Raise `DependencyUnavailable`, in one sentence, for a key that cannot be used."""
    path = settings.home / SECRET_KEY_FILE
    if settings.secret_key is not None:
        key, source = settings.secret_key.get_secret_value().encode(), "CODEGENAPP_SECRET_KEY"
    else:
        try:
            key, source = read_regular_file(path, limit=1024).strip(), str(path)
        except FileNotFoundError:
            key = SecretBox.new_key()
            write_private(path, key + b"\n")
            return key
        except OSError as error:
            raise DependencyUnavailable(f"cannot read the secret key {path}: {error}") from None
    try:
        SecretBox(key)
    except ValueError:
        raise DependencyUnavailable(
            f"{source} is not a Fernet key (32 url-safe base64-encoded bytes; make one with: "
            "python3 -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from None
    return key


async def open_runtime(settings: Settings) -> Runtime:
    """Database (migrated), bus and drivers, bound for the workflows to use."""
    # Retries we expect (a health check polling a service that is still starting) are not
    # news; stamina would log each one.
    stamina.instrumentation.set_on_retry_hooks([])
    prepare_home(settings)
    bus = await _open_bus(settings)
    await migrate.upgrade(settings.app_database_url)
    database = Database(settings.app_database_url, on_commit=bus.publish)
    secret_box = SecretBox(load_secret_key(settings))
    runtime = Runtime(
        settings=settings,
        database=database,
        bus=bus,
        drivers=Registry(settings, secret_box=secret_box),
        secret_box=secret_box,
        host_secrets=host_secrets(settings),
    )
    bind(runtime)
    return runtime


async def launch_workflows(settings: Settings, *, listen: bool) -> None:
    """Start DBOS: recover this executor's unfinished workflows and (if `listen`) take work
    from the queues. Call once per process, from the event loop that is to run them: DBOS
    runs async workflows on the loop that launched it."""
    config: DBOSConfig = {
        "name": "codegenapp",
        "system_database_url": settings.workflow_database_url,
        "application_version": __version__,
        "executor_id": settings.executor_id,
        "log_level": "WARNING",
        # SQLite has no LISTEN/NOTIFY: DBOS polls for messages (a plan answer's wake-up).
        "notification_listener_polling_interval_sec": 0.25,
    }
    DBOS(config=config)
    if not listen:
        DBOS.listen_queues([])
    DBOS.launch()
    interval = settings.queue_polling_interval_sec
    await DBOS.register_queue_async(
        VALIDATION_QUEUE,
        worker_concurrency=settings.validation_concurrency,
        polling_interval_sec=interval,
        on_conflict="always_update",
    )
    await DBOS.register_queue_async(
        BASELINE_QUEUE,
        worker_concurrency=1,  # a base branch's build is background work
        polling_interval_sec=interval,
        on_conflict="always_update",
    )
    await DBOS.register_queue_async(
        RUN_QUEUE,
        polling_interval_sec=settings.run_queue_polling_interval_sec,
        on_conflict="always_update",
    )


def running_workflow_tasks() -> list[asyncio.Task[object]]:
    """The tasks running this process's async workflows. DBOS holds them (a strong reference
    against garbage collection) but has no public way to list them."""
    instance = dbos_internals._dbos_global_instance
    return [task for task in getattr(instance, "_workflow_tasks", ()) if not task.done()]


async def close_runtime(runtime: Runtime, *, workers: bool = True) -> None:
    cut = running_workflow_tasks()
    DBOS.destroy(workflow_completion_timeout_sec=0)
    # DBOS shut down the thread pool it had made the loop's default; cleaning up needs one.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
    # Stopped, not left to run on: a workflow mid-step would go on making sandboxes after
    # the reap below. Cancelled after DBOS is down, so that nothing records them as ended
    # (the next start recovers them); each attempt cleans up its sandbox as it goes.
    for task in cut:
        task.cancel()
    if cut:
        await asyncio.wait(cut, timeout=WORKFLOW_STOP_SEC)
    await forge_reports.drain(timeout=WORKFLOW_STOP_SEC)  # they read the database, just below
    if workers:
        # Validations cut short by the shutdown: their sandboxes' processes die with us, but
        # their mounts and cgroups would stay.
        await runtime.drivers.reap_sandboxes(mine=True)
    await runtime.drivers.evaluator().close()  # the warm browser, if one was started
    await runtime.bus.close()
    await runtime.database.dispose()
    bind(None)


@asynccontextmanager
async def running(settings: Settings, *, workers: bool = True) -> AsyncIterator[Runtime]:
    """The whole back end, up for the duration of the block."""
    if not workers:
        # An API-only process owns no workflow: a name of its own keeps DBOS from
        # recovering (and running) the workers' workflows here.
        settings = settings.model_copy(update={"executor_id": f"api-{secrets.token_hex(6)}"})
    runtime = await open_runtime(settings)
    sweep: asyncio.Task[None] | None = None  # lists open pull requests: lost webhooks
    try:
        if workers:
            await runtime.drivers.reap_sandboxes(mine=False)  # before any attempt starts
            await asyncio.to_thread(
                artifacts.remove_expired,
                settings.artifacts_root,
                days=settings.artifact_retention_days,
            )
        await launch_workflows(settings, listen=workers)
        if workers:
            await reconcile.start_orphans()
            sweep = asyncio.create_task(sweep_forever(settings.github_reconcile_interval_sec))
        yield runtime
    finally:
        if sweep is not None:
            sweep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweep
        await close_runtime(runtime, workers=workers)


async def ensure_admin_token(runtime: Runtime) -> str | None:
    """Store the configured admin token, or make one on first start. Returns a token only
    when it was just generated (to be shown once); it is also kept, readable by its owner
    only, in `<home>/admin-token`."""
    settings = runtime.settings
    configured = settings.admin_token.get_secret_value() if settings.admin_token else None
    async with runtime.database.transaction() as session:
        if configured:
            await tokens.add_token(session, name="admin (CODEGENAPP_ADMIN_TOKEN)", token=configured)
            return None
        if await tokens.has_tokens(session):
            return None
        token = secrets.token_urlsafe(32)
        await tokens.add_token(session, name="admin (generated)", token=token)
    write_private(settings.home / TOKEN_FILE, (token + "\n").encode())
    return token


def _uses_github(settings: Settings) -> bool:
    return settings.github_token is not None or settings.github_app_id is not None


def login_url(settings: Settings, token: str) -> str:
    return f"http://{settings.host}:{settings.port}/?token={token}"


def create_app(
    settings: Settings,
    *,
    workers: bool = True,
    announce: Callable[[str], None] = lambda line: print(line, flush=True),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(settings, workers=workers) as runtime:
            app.state.runtime = runtime
            token = await ensure_admin_token(runtime)
            if token:
                announce(f"Sign in (shown once; kept in {settings.home / TOKEN_FILE}):")
                announce(f"    {login_url(settings, token)}")
            # Everything loaded so far lives as long as the server: keep the collector from
            # scanning it again and again (measured: gen-2 pauses of 150 ms and more under a
            # thousand WebSocket clients, most of them spent on these long-lived objects).
            gc.freeze()
            if settings.github_webhook_secret is None:
                level = logging.WARNING if _uses_github(settings) else logging.INFO
                log.log(level, "GitHub webhooks are refused (503): GITHUB_WEBHOOK_SECRET is unset")
            announce(f"Ready on http://{settings.host}:{settings.port}")
            yield

    app = FastAPI(
        title="CodegenApp",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    protected = [Depends(require_token)]
    routers = (projects, project_secrets, agent_runs, validations, events, token_routes)
    for router in (module.router for module in routers):
        app.include_router(
            router, prefix="/api/v1", dependencies=protected, responses=errors.EVERY_ROUTE
        )
    app.include_router(webhooks.router, prefix="/api/v1")  # the signature authenticates
    app.include_router(ws_router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Open to anyone: whether the server is up, and its version."""
        return {"status": "ok", "version": __version__}

    if settings.api_docs:
        mount_docs(app)
    ui.mount_dashboard(app)
    check = TokenCheck()

    async def authenticate(scope: Scope, token: str | None) -> bool:
        return await check(scope["app"].state.runtime, token)

    app.state.token_check = check
    app.state.catch_up_slots = asyncio.Semaphore(CATCH_UP_SLOTS)
    # The last added runs first: headers on every answer, then compression, then the gate.
    app.add_middleware(
        Gate,
        authenticate=authenticate,
        is_open=is_open,
        max_body_bytes=settings.max_body_bytes,
        body_limits={webhooks.GITHUB_PATH: (MAX_DELIVERY_BYTES, "GitHub's own cap on a delivery")},
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(SecurityHeaders)
    return app


OPEN_PATHS = frozenset({"/health"})
OPEN_POSTS = frozenset({webhooks.GITHUB_PATH})  # a forge's deliveries: signed, not tokened
API_DESCRIPTION = """Goals become agent runs; pull requests are validated in sandboxes and merged
when green.

Every route needs `Authorization: Bearer <token>` except `/health` and the webhook routes
(signed by the forge instead). Bodies are capped
(CODEGENAPP_MAX_BODY_BYTES, default 1 MiB: 413 beyond). Every error answer is
`{"detail": "<one line>", "errors": [{"loc", "msg", "type"}]}`."""


def is_open(method: str, path: str) -> bool:
    """Requests that need no token: /health, and loading the dashboard or the docs' files."""
    if path in OPEN_PATHS or (method == "POST" and path in OPEN_POSTS):
        return True
    reading = method in ("GET", "HEAD")
    return reading and (ui.is_dashboard_path(path) or path.startswith(f"{DOCS_ASSETS}/"))
