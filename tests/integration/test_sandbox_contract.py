"""One behaviour suite for every Sandbox driver, plus what only bubblewrap's isolation promises."""

import asyncio
import fcntl
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from codegenapp.drivers.sandbox import (
    SOURCE_DIR,
    ResourceLimits,
    Sandbox,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
)
from codegenapp.drivers.sandbox.bubblewrap import BubblewrapSandbox, bubblewrap_available
from codegenapp.drivers.sandbox.process import ProcessSandbox
from codegenapp.errors import InvalidInput, SandboxError, SandboxUnavailable, StepTimedOut

SECRET_NAME = "CODEGENAPP_TEST_FAKE_SECRET"
SECRET_VALUE = "never-inside-4c1f0e"
SERVICE_PORT = 8000

# A web service that answers every GET, and exits with status 7 after answering /stop.
SERVICE = """
import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from " + os.environ["GREETING"]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.stopping = self.path == "/stop"
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
server.stopping = False
print("listening", flush=True)
while not server.stopping:
    server.handle_request()
sys.exit(7)
"""


class Transcript:
    """An output sink that remembers everything and lets a test wait for a piece of text."""

    def __init__(self) -> None:
        self.text = ""
        self._changed = asyncio.Condition()

    async def __call__(self, chunk: str) -> None:
        async with self._changed:
            self.text += chunk
            self._changed.notify_all()

    async def wait_for(self, needle: str, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: needle in self.text)


async def wait_for_exit(pid: int, timeout: float = 20.0) -> None:
    """Wait until host process `pid` has exited: its pidfd turns readable then."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()

    def mark_exited() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(pidfd, mark_exited)
    try:
        await asyncio.wait_for(exited, timeout)
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


def lock_is_free(path: Path) -> bool:
    """True if nobody holds an flock on `path` (a process holding it is still alive)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


async def output_of(driver: Sandbox, handle: SandboxHandle, *argv: str) -> str:
    transcript = Transcript()
    await driver.exec(handle, argv, on_output=transcript, timeout=60)
    return transcript.text


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        return await client.get(url)


async def require_bubblewrap() -> None:
    if await asyncio.to_thread(bubblewrap_available):
        return
    # make setup installs it: a machine where it cannot run is a failure, never a skip.
    pytest.fail("bwrap cannot run here: apt-get install -y bubblewrap")


def make_driver(kind: str, state_dir: Path) -> Sandbox:
    if kind == "bubblewrap":
        return BubblewrapSandbox(state_dir)
    return ProcessSandbox(state_dir)


def spec(
    tmp_path: Path, *, name: str = "validation-1", limits: ResourceLimits | None = None
) -> SandboxSpec:
    return SandboxSpec(
        name=name,
        work_area=tmp_path / "sandboxes" / name,
        env={"GREETING": name},
        limits=limits or ResourceLimits(),
    )


@pytest.fixture(params=["bubblewrap", "process"])
async def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "bubblewrap":
        await require_bubblewrap()
    return str(request.param)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def driver(kind: str, state_dir: Path) -> Sandbox:
    return make_driver(kind, state_dir)


@pytest.fixture
async def handle(driver: Sandbox, tmp_path: Path) -> AsyncIterator[SandboxHandle]:
    handle = await driver.create(spec(tmp_path))
    yield handle
    await driver.destroy(handle)


@pytest.fixture
async def confined(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, SandboxHandle]]:
    await require_bubblewrap()
    driver = BubblewrapSandbox(tmp_path / "state")
    handle = await driver.create(spec(tmp_path))
    yield driver, handle
    await driver.destroy(handle)


async def start_web_service(
    driver: Sandbox, handle: SandboxHandle, transcript: Transcript
) -> ServiceHandle:
    service = await driver.start_service(
        handle, ["python3", "-c", SERVICE], port=SERVICE_PORT, on_output=transcript
    )
    await transcript.wait_for("listening")
    return service


# --- the contract, for every driver -------------------------------------------------------


async def test_output_is_streamed_live_and_the_exit_code_returned(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    transcript = Transcript()
    script = 'pwd; echo ready; until [ -e go ]; do sleep 0.01; done; echo "late" >&2; exit 3'
    run = asyncio.create_task(
        driver.exec(handle, ["sh", "-c", script], on_output=transcript, timeout=60)
    )
    await transcript.wait_for("ready")
    assert not run.done(), "the output arrived only after the command ended"
    Path(handle.work_area, SOURCE_DIR, "go").touch()
    result = await run
    assert result.exit_code == 3
    assert result.duration_s > 0
    assert "late\n" in transcript.text  # stderr is merged into the same stream
    assert f"/{SOURCE_DIR}\nready\n" in transcript.text  # it ran in the source directory


async def test_output_is_decoded_as_utf8_even_when_split_mid_character(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    transcript = Transcript()
    # One byte per write, so multi-byte characters arrive split; then one invalid byte.
    script = (
        "import sys\n"
        "for byte in 'héllo ✓\\n'.encode() + b'\\xff\\n':\n"
        "    sys.stdout.buffer.write(bytes([byte]))\n"
        "    sys.stdout.flush()\n"
    )
    result = await driver.exec(handle, ["python3", "-c", script], on_output=transcript, timeout=60)
    assert result.exit_code == 0
    assert "héllo ✓\n\ufffd\n" in transcript.text


async def test_the_environment_holds_the_spec_env_and_no_host_secret(
    driver: Sandbox, handle: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    transcript = Transcript()
    result = await driver.exec(handle, ["env"], on_output=transcript, timeout=60)
    assert result.exit_code == 0
    env = dict(line.split("=", 1) for line in transcript.text.splitlines() if "=" in line)
    env.pop("PWD", None)  # bwrap sets it to the starting directory
    assert set(env) == {"PATH", "HOME", "CI", "LANG", "GREETING"}
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"
    assert (env["CI"], env["LANG"], env["GREETING"]) == ("true", "C.UTF-8", "validation-1")
    assert env["HOME"].endswith("/home")
    assert SECRET_NAME not in transcript.text
    assert SECRET_VALUE not in transcript.text


async def test_a_command_that_outlives_its_timeout_is_killed_with_its_children(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    lock = Path(handle.work_area, SOURCE_DIR, "held.lock")
    transcript = Transcript()
    # The grandchild leaves the session and holds a lock for as long as it lives.
    script = '(setsid flock -x held.lock sh -c "echo locked; exec sleep 600") & wait'
    with pytest.raises(StepTimedOut):
        await driver.exec(handle, ["sh", "-c", script], on_output=transcript, timeout=2)
    assert "locked" in transcript.text, "the grandchild never got going"
    assert lock_is_free(lock), "a grandchild survived the timeout"


async def test_background_processes_of_a_finished_command_do_not_outlive_it(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    lock = Path(handle.work_area, SOURCE_DIR, "held.lock")
    script = (
        '(flock -x held.lock sh -c "touch locked; exec sleep 600") & '
        "until [ -e locked ]; do sleep 0.01; done; echo done"
    )
    result = await driver.exec(handle, ["sh", "-c", script], on_output=Transcript(), timeout=60)
    assert result.exit_code == 0
    assert lock_is_free(lock), "a background child outlived its command"


async def test_a_service_is_reachable_at_its_endpoint_and_reports_its_exit_code(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    transcript = Transcript()
    service = await start_web_service(driver, handle, transcript)
    assert await driver.service_exit_code(handle, service) is None

    url = await driver.endpoint(handle, SERVICE_PORT)
    assert url.startswith("http://127.0.0.1:")
    response = await get(f"{url}/hello")
    assert (response.status_code, response.text) == (200, "hello from validation-1")

    await get(f"{url}/stop")
    await wait_for_exit(service.pid)
    assert await driver.service_exit_code(handle, service) == 7


async def test_two_sandboxes_serve_the_same_port_at_once(driver: Sandbox, tmp_path: Path) -> None:
    handles = [await driver.create(spec(tmp_path, name=f"validation-{n}")) for n in (1, 2)]
    try:
        for handle in handles:
            await start_web_service(driver, handle, Transcript())
        answers = [(await get(f"{await driver.endpoint(h, SERVICE_PORT)}/")).text for h in handles]
        assert answers == ["hello from validation-1", "hello from validation-2"]
    finally:
        for handle in handles:
            await driver.destroy(handle)


async def test_a_service_gets_its_port_in_the_environment(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    transcript = Transcript()
    service = await driver.start_service(
        handle, ["sh", "-c", 'echo "port=$PORT"'], port=SERVICE_PORT, on_output=transcript
    )
    await wait_for_exit(service.pid)
    await transcript.wait_for("port=")
    assert await driver.service_exit_code(handle, service) == 0
    # The process driver hands out a free host port in place of the one asked for.
    port = int(transcript.text.split("port=")[1].split()[0])
    assert port == SERVICE_PORT or driver.name == "process"


async def test_another_driver_instance_can_use_and_destroy_a_sandbox(
    kind: str, state_dir: Path, tmp_path: Path
) -> None:
    first = make_driver(kind, state_dir)
    handle = await first.create(spec(tmp_path))
    service = await start_web_service(first, handle, Transcript())

    # As a restarted worker would: a new driver, nothing but the stored handle.
    second = make_driver(kind, state_dir)
    stored = SandboxHandle(driver=handle.driver, id=handle.id, work_area=handle.work_area)
    response = await get(f"{await second.endpoint(stored, SERVICE_PORT)}/")
    assert response.text == "hello from validation-1"
    result = await second.exec(stored, ["true"], on_output=Transcript(), timeout=60)
    assert result.exit_code == 0

    await second.destroy(stored)
    await wait_for_exit(service.pid)
    assert await first.service_exit_code(handle, service) == 128 + 9
    assert not Path(handle.work_area).exists()
    assert list(state_dir.iterdir()) == []


async def test_destroy_is_idempotent_and_removes_the_work_area(
    driver: Sandbox, state_dir: Path, tmp_path: Path
) -> None:
    handle = await driver.create(spec(tmp_path))
    Path(handle.work_area, SOURCE_DIR, "build.log").write_text("output")
    await driver.destroy(handle)
    await driver.destroy(handle)
    assert not Path(handle.work_area).exists()
    assert list(state_dir.iterdir()) == []
    with pytest.raises(SandboxError):
        await driver.exec(handle, ["true"], on_output=Transcript(), timeout=60)

    never_created = SandboxHandle(driver.name, "never-created-0", str(tmp_path / "nothing"))
    await driver.destroy(never_created)


async def test_resource_limits_bound_memory_file_size_and_open_files(
    driver: Sandbox, tmp_path: Path
) -> None:
    limits = ResourceLimits(memory_mb=256, file_size_mb=1, open_files=64)
    handle = await driver.create(spec(tmp_path, limits=limits))
    try:
        memory = await output_of(driver, handle, "python3", "-c", "bytearray(512 * 1024**2)")
        assert memory.endswith("MemoryError\n")
        opener = "import os\nfor _ in range(100): os.open('/dev/null', os.O_RDONLY)"
        assert "Too many open files" in await output_of(driver, handle, "python3", "-c", opener)
        await output_of(driver, handle, "sh", "-c", "head -c 2097152 /dev/zero > big")
        assert Path(handle.work_area, SOURCE_DIR, "big").stat().st_size == 1024 * 1024
    finally:
        await driver.destroy(handle)


async def test_a_bad_spec_is_refused_naming_the_field(driver: Sandbox, tmp_path: Path) -> None:
    bad_env = SandboxSpec(name="x", work_area=tmp_path / "work", env={"NOT-A-NAME": "1"})
    with pytest.raises(InvalidInput) as refused:
        await driver.create(bad_env)
    assert refused.value.field == "env"
    with pytest.raises(InvalidInput) as refused:
        await driver.create(SandboxSpec(name="x", work_area=Path("relative/work")))
    assert refused.value.field == "work_area"


# --- what only bubblewrap promises --------------------------------------------------------


async def test_a_host_listener_is_unreachable_from_inside(
    confined: tuple[Sandbox, SandboxHandle],
) -> None:
    driver, handle = confined
    connections: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append("connected")
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    probe = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
        "    print('reached the host')\n"
        "except OSError as exc:\n"
        "    print('unreachable:', type(exc).__name__)\n"
    )
    transcript = Transcript()
    async with server:
        await driver.exec(handle, ["python3", "-c", probe], on_output=transcript, timeout=60)
    assert "unreachable: ConnectionRefusedError" in transcript.text
    assert connections == []


async def test_the_work_area_is_the_only_writable_place_that_outlives_the_sandbox(
    confined: tuple[Sandbox, SandboxHandle], tmp_path: Path
) -> None:
    driver, handle = confined
    private = f"codegenapp-probe-{tmp_path.name}"
    outside = ["/usr/probe", "/etc/probe", "/probe", "/run/probe", "/dev/probe", "/var/probe"]
    script = (
        f"for target in {' '.join(outside)}; do "
        'if touch "$target" 2>/dev/null; then echo "wrote $target"; '
        'else echo "refused $target"; fi; done; '
        f"touch /workspace/src/probe /workspace/home/probe /tmp/{private} && echo inside-ok"
    )
    transcript = Transcript()
    await driver.exec(handle, ["sh", "-c", script], on_output=transcript, timeout=60)
    for target in outside:
        assert f"refused {target}\n" in transcript.text
    assert "inside-ok" in transcript.text
    assert Path(handle.work_area, SOURCE_DIR, "probe").exists()
    assert Path(handle.work_area, "home", "probe").exists()
    assert not Path("/tmp", private).exists()  # /tmp inside is a private tmpfs


async def test_host_files_outside_the_work_area_are_invisible(
    confined: tuple[Sandbox, SandboxHandle], tmp_path: Path
) -> None:
    driver, handle = confined
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET_VALUE)
    repository = Path(__file__).resolve().parents[2]
    hidden = [secret, tmp_path / "state", repository, Path(sys.prefix), Path("/root")]
    hidden += [Path("/etc/shadow"), Path("/var"), Path("/home")]
    script = "; ".join(f'test -e "{path}" && echo "visible {path}"' for path in hidden)
    transcript = Transcript()
    script += "; echo checked"
    await driver.exec(handle, ["sh", "-c", script], on_output=transcript, timeout=60)
    assert transcript.text.endswith("checked\n")
    assert "visible" not in transcript.text


async def test_the_endpoint_never_follows_a_link_planted_in_the_work_area(
    confined: tuple[Sandbox, SandboxHandle], tmp_path: Path
) -> None:
    driver, handle = confined
    await start_web_service(driver, handle, Transcript())
    connections: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append("connected")
        writer.close()

    host_socket = tmp_path / "host.sock"  # stands for a host service such as Docker's
    server = await asyncio.start_unix_server(record, path=str(host_socket))
    plant = f"ln -sf {host_socket} /workspace/.sandbox/port-{SERVICE_PORT}.sock"
    async with server:
        await driver.exec(handle, ["sh", "-c", plant], on_output=Transcript(), timeout=60)
        assert Path(handle.work_area, ".sandbox", f"port-{SERVICE_PORT}.sock").is_symlink()
        url = await driver.endpoint(handle, SERVICE_PORT)
        with pytest.raises(httpx.HTTPError):
            await get(f"{url}/")
    assert connections == []


async def test_bubblewrap_is_unavailable_without_bwrap(tmp_path: Path) -> None:
    assert not bubblewrap_available("/nonexistent/bwrap")
    driver = BubblewrapSandbox(tmp_path / "state", bwrap="/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable):
        await driver.create(spec(tmp_path))


# --- what only the process driver says ----------------------------------------------------


async def test_the_process_driver_says_not_isolated_before_every_command_and_service(
    tmp_path: Path,
) -> None:
    driver = ProcessSandbox(tmp_path / "state")
    handle = await driver.create(spec(tmp_path))
    try:
        command = Transcript()
        await driver.exec(handle, ["echo", "built"], on_output=command, timeout=60)
        assert command.text.splitlines()[0].count("NOT ISOLATED") == 1
        assert command.text.endswith("built\n")
        service = Transcript()
        started = await driver.start_service(
            handle, ["echo", "serving"], port=SERVICE_PORT, on_output=service
        )
        await wait_for_exit(started.pid)
        await service.wait_for("serving")
        assert "NOT ISOLATED" in service.text.splitlines()[0]
        assert driver.isolated is False
    finally:
        await driver.destroy(handle)
