"""Shared fixtures: settings on a fresh home, SQLite and PostgreSQL databases, the back end
in-process, and a real HTTP server."""

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from tests.support.docker_daemon import DockerDaemon, docker_daemon
from tests.support.images import TestImages, ensure_test_images
from tests.support.sandboxes import Docker, remove_docker_namespace

from codegenapp.flows.runtime import Runtime
from codegenapp.main import create_app, running
from codegenapp.settings import Settings

PG_ADMIN_URL = os.environ.get("CODEGENAPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_TOKEN = "test-token-" + "x" * 24


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own for one test, dropped afterwards (connections and all)."""
    name = f"codegenapp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Runs the test once on SQLite (the embedded default) and once on PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_database() as url:
        yield url


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "home": tmp_path / "home",
            "admin_token": TEST_TOKEN,
            "port": free_port(),
            "queue_polling_interval_sec": 0.02,
            "run_queue_polling_interval_sec": 0.02,
            "agent_poll_interval_sec": 0.02,
            # Tests make their repositories anywhere under their own tmp_path.
            "repository_roots": str(tmp_path),
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


def processes_naming(path: Path) -> list[str]:
    """The command lines of running processes that name `path` (a sandbox's command, proxy or
    watchdog names its home)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        if str(path).encode() in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace")[:300])
    return found


@pytest.fixture
async def backend(settings: Settings) -> AsyncIterator[Runtime]:
    """The whole back end in this process: database, bus, drivers, workflows."""
    async with running(settings) as runtime:
        yield runtime
    await nothing_left(settings.home)


async def nothing_left(home: Path) -> None:
    """Once a back end has shut down, no process of its sandboxes may run on: nobody would
    ever stop it. Killed ones take a moment to go (polled: /proc sends no event)."""
    deadline = time.monotonic() + 5
    while (left := processes_naming(home)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not left, "processes outlived their back end's shutdown:\n" + "\n".join(left)


class Server:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.port}"
        self.ws_url = f"ws://127.0.0.1:{settings.port}/ws"
        self.headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
        self.app = create_app(settings, announce=lambda _: None)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


async def serve(settings: Settings) -> AsyncIterator[Server]:
    """A real HTTP server (uvicorn) on `settings.port`, for as long as the iteration lasts."""
    server = Server(settings)
    ready = asyncio.Event()
    inner = server.app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            ready.set()
            yield

    server.app.router.lifespan_context = lifespan
    # Listening before uvicorn starts: requests wait in the backlog instead of being refused.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", settings.port))
    sock.listen(128)
    config = uvicorn.Config(server.app, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    started = asyncio.create_task(ready.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()
        raise RuntimeError("the server stopped before it started")
    try:
        yield server
    finally:
        uv.should_exit = True
        await task
        sock.close()
    await nothing_left(settings.home)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    """A real HTTP server (uvicorn) on a free loopback port, serving the whole back end."""
    async for running_server in serve(settings):
        yield running_server


@pytest.fixture
async def server_on_both_databases(
    make_settings: SettingsFactory, database_url: str | None
) -> AsyncIterator[Server]:
    async for running_server in serve(make_settings(database_url=database_url)):
        yield running_server


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerDaemon]:
    """The machine's private test Docker daemon, for the whole session (started if no other
    session runs it); what this session's docker sandboxes left is removed at the end."""
    with docker_daemon() as daemon:
        try:
            yield daemon
        finally:
            remove_docker_namespace(daemon.host)


@pytest.fixture(scope="session")
def docker_images(docker_engine: DockerDaemon) -> TestImages:
    """The test images (tests/images/), built or taken from the cache, in the daemon."""
    return ensure_test_images(docker_engine.host)


@pytest.fixture
def docker(docker_engine: DockerDaemon, docker_images: TestImages) -> Docker:
    return Docker(docker_engine, docker_images)
