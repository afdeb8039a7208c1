"""One behaviour suite for every Sandbox driver on this machine, plus what only the isolating
drivers promise. Tests reach inside only through the seam (exec, put_tree, endpoint), as the
pipeline does, so the same test holds for a sandbox on another machine."""

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.support.sandboxes import (
    DOCKER,
    Docker,
    Kind,
    Transcript,
    output_of,
    sandbox_kind,
    shell,
    wait_for_service_exit,
)

from codegenapp.domain.network_policy import REGISTRY_HOSTS
from codegenapp.drivers.sandbox import (
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


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        return await client.get(url)


async def lock_is_free(driver: Sandbox, handle: SandboxHandle, name: str) -> bool:
    """True if nobody in the sandbox holds an flock on `name` (its holder is not alive)."""
    code, _ = await shell(driver, handle, f"flock -n {name} true")
    return code == 0


def spec(*, name: str = "validation-1", limits: ResourceLimits | None = None) -> SandboxSpec:
    return SandboxSpec(name=name, env={"GREETING": name}, limits=limits or ResourceLimits())


def docker_of(request: pytest.FixtureRequest) -> Docker | None:
    """The test daemon and images, for the docker kind only (started on first use)."""
    if request.param != "docker":
        return None
    docker: Docker = request.getfixturevalue("docker")
    return docker


@pytest.fixture(params=["bubblewrap", "process", DOCKER])
async def kind(request: pytest.FixtureRequest, tmp_path: Path) -> Kind:
    return await sandbox_kind(str(request.param), tmp_path, docker=docker_of(request))


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def driver(kind: Kind, state_dir: Path) -> Sandbox:
    return kind.make(state_dir)


@pytest.fixture
async def handle(driver: Sandbox) -> AsyncIterator[SandboxHandle]:
    handle = await driver.create(spec())
    yield handle
    await driver.destroy(handle)


@pytest.fixture
async def confined(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, SandboxHandle]]:
    kind = await sandbox_kind("bubblewrap", tmp_path)
    driver = kind.make(tmp_path / "state")
    handle = await driver.create(spec())
    yield driver, handle
    await driver.destroy(handle)


def work_area(driver: Sandbox, handle: SandboxHandle) -> Path:
    """Where a host-process driver keeps the sandbox (tests of those drivers only)."""
    assert isinstance(driver, BubblewrapSandbox | ProcessSandbox)
    state = driver._supervisor.store.find(handle.id)
    assert state is not None
    return Path(state.work_area)


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
    await shell(driver, handle, "touch go")
    result = await run
    assert result.exit_code == 3
    assert result.duration_s > 0
    assert "late\n" in transcript.text  # stderr is merged into the same stream
    assert "/src\nready\n" in transcript.text  # it ran in the source directory


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
    transcript = Transcript()
    # The grandchild leaves the session and holds a lock for as long as it lives.
    script = '(setsid flock -x held.lock sh -c "echo locked; exec sleep 600") & wait'
    with pytest.raises(StepTimedOut):
        await driver.exec(handle, ["sh", "-c", script], on_output=transcript, timeout=2)
    assert "locked" in transcript.text, "the grandchild never got going"
    assert await lock_is_free(driver, handle, "held.lock"), "a grandchild survived the timeout"


async def test_background_processes_of_a_finished_command_do_not_outlive_it(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    script = (
        '(flock -x held.lock sh -c "touch locked; exec sleep 600") & '
        "until [ -e locked ]; do sleep 0.01; done; echo done"
    )
    result = await driver.exec(handle, ["sh", "-c", script], on_output=Transcript(), timeout=60)
    assert result.exit_code == 0
    assert await lock_is_free(driver, handle, "held.lock"), "a background child outlived it"


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
    assert await wait_for_service_exit(driver, handle, service) == 7


async def test_two_sandboxes_serve_the_same_port_at_once(driver: Sandbox) -> None:
    handles = [await driver.create(spec(name=f"validation-{n}")) for n in (1, 2)]
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
    assert await wait_for_service_exit(driver, handle, service) == 0
    await transcript.wait_for("port=")
    # The process driver hands out a free host port in place of the one asked for.
    port = int(transcript.text.split("port=")[1].split()[0])
    assert port == SERVICE_PORT or driver.name == "process"


async def test_another_driver_instance_can_use_and_destroy_a_sandbox(
    kind: Kind, state_dir: Path
) -> None:
    first = kind.make(state_dir)
    handle = await first.create(spec())
    service = await start_web_service(first, handle, Transcript())

    # As a restarted worker would: a new driver, nothing but the stored handle.
    second = kind.make(state_dir)
    stored = SandboxHandle.from_stored({"driver": handle.driver, "id": handle.id})
    response = await get(f"{await second.endpoint(stored, SERVICE_PORT)}/")
    assert response.text == "hello from validation-1"
    result = await second.exec(stored, ["true"], on_output=Transcript(), timeout=60)
    assert result.exit_code == 0

    await second.destroy(stored)
    assert await wait_for_service_exit(first, handle, service) == 128 + 9
    assert kind.leftovers() == []
    assert list(state_dir.iterdir()) == []


async def test_destroy_is_idempotent_and_removes_everything(
    driver: Sandbox, kind: Kind, state_dir: Path
) -> None:
    handle = await driver.create(spec())
    await shell(driver, handle, "echo output > build.log")
    await driver.destroy(handle)
    await driver.destroy(handle)
    assert kind.leftovers() == []
    assert list(state_dir.iterdir()) == []
    with pytest.raises(SandboxError):
        await driver.exec(handle, ["true"], on_output=Transcript(), timeout=60)

    await driver.destroy(SandboxHandle(driver.name, "never-created-0"))


async def test_put_tree_makes_the_source_directory_the_commands_run_in(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    async def write(path: Path) -> None:
        (path / "pkg").mkdir(parents=True)
        (path / "pkg" / "module.txt").write_text("from the snapshot\n")
        (path / "run.sh").write_text("#!/bin/sh\necho ran\n")
        (path / "run.sh").chmod(0o755)

    await driver.put_tree(handle, write)
    code, output = await shell(driver, handle, "cat pkg/module.txt && ./run.sh")
    assert code == 0
    assert output.endswith("from the snapshot\nran\n")


async def test_each_command_gets_the_spec_env_plus_its_own_and_tools_first_on_path(
    kind: Kind, state_dir: Path
) -> None:
    driver = kind.make(state_dir)
    tools = SandboxSpec(name="tools", env={"SHARED": "everywhere"}, path_prepend=(".venv/bin",))
    handle = await driver.create(tools)
    try:
        await shell(
            driver,
            handle,
            "mkdir -p .venv/bin && printf '#!/bin/sh\\necho mine\\n' "
            "> .venv/bin/tool && chmod +x .venv/bin/tool",
        )
        build = await output_of(
            driver, handle, "sh", "-c", 'tool; echo "$SHARED/$STAGE"', env={"STAGE": "build"}
        )
        assert build.endswith("mine\neverywhere/build\n")
        plain = await output_of(driver, handle, "sh", "-c", 'echo "$SHARED/${STAGE:-none}"')
        assert plain.endswith("everywhere/none\n")

        transcript = Transcript()
        service = await driver.start_service(
            handle,
            ["sh", "-c", 'echo "$SHARED/$STAGE/$PORT"'],
            port=SERVICE_PORT,
            on_output=transcript,
            env={"STAGE": "service"},
        )
        assert await wait_for_service_exit(driver, handle, service) == 0
        await transcript.wait_for("everywhere/service/")
    finally:
        await driver.destroy(handle)


async def test_resource_limits_bound_memory_file_size_and_open_files(driver: Sandbox) -> None:
    limits = ResourceLimits(memory_mb=256, file_size_mb=1, open_files=64)
    handle = await driver.create(spec(limits=limits))
    try:
        code, memory = await shell(driver, handle, "python3 -c 'bytearray(512 * 1024**2)'")
        # Over a memory cgroup the kernel kills it (137); over an rlimit, malloc fails.
        assert code == 137 or memory.endswith("MemoryError\n"), memory
        opener = "import os\nfor _ in range(100): os.open('/dev/null', os.O_RDONLY)"
        assert "Too many open files" in await output_of(driver, handle, "python3", "-c", opener)
        await output_of(driver, handle, "sh", "-c", "head -c 2097152 /dev/zero > big")
        code, size = await shell(driver, handle, "wc -c < big")
        assert size.strip().endswith("1048576")
    finally:
        await driver.destroy(handle)


async def test_a_bad_env_is_refused_naming_the_field(
    driver: Sandbox, handle: SandboxHandle
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await driver.create(SandboxSpec(name="x", env={"NOT-A-NAME": "1"}))
    assert refused.value.field == "env"
    with pytest.raises(InvalidInput) as refused:
        await driver.exec(handle, ["true"], on_output=Transcript(), timeout=5, env={"A\0": "1"})
    assert refused.value.field == "env"


# --- egress and caches, for the drivers that isolate -----------------------------------------

PROBE_URL = """
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=20)
    print("reached")
except urllib.error.HTTPError as answer:  # something there answered, if only to say no
    print("reached, answered", answer.code)
except Exception as error:
    print("refused:", error)
"""


@pytest.fixture(params=["bubblewrap", DOCKER])
async def isolating(request: pytest.FixtureRequest, tmp_path: Path) -> Kind:
    return await sandbox_kind(str(request.param), tmp_path, docker=docker_of(request))


async def test_with_egress_a_command_reaches_a_registry_and_nothing_else(
    isolating: Kind, tmp_path: Path
) -> None:
    driver = isolating.make(tmp_path / "state")
    handle = await driver.create(SandboxSpec(name="egress", allowed_hosts=REGISTRY_HOSTS))
    try:
        install = (
            "python3 -m venv .venv && .venv/bin/pip install --disable-pip-version-check -q "
            "iniconfig==2.0.0 && .venv/bin/python -c 'import iniconfig; print(\"imported\")'"
        )
        transcript = Transcript()
        result = await driver.exec(
            handle, ["sh", "-c", install], on_output=transcript, timeout=300, egress=True
        )
        assert result.exit_code == 0, transcript.text
        assert transcript.text.endswith("imported\n")

        # Refused by name by the proxy, which says so in the command's own output.
        blocked = await output_of(
            driver, handle, "python3", "-c", PROBE_URL, "https://blocked.invalid/", egress=True
        )
        assert "refused: <urlopen error Tunnel connection failed: 403" in blocked
        assert "egress proxy refused blocked.invalid:443 (not an allowed host)" in blocked
    finally:
        await driver.destroy(handle)


async def test_without_egress_there_is_no_proxy_to_reach(isolating: Kind, tmp_path: Path) -> None:
    driver = isolating.make(tmp_path / "state")
    handle = await driver.create(SandboxSpec(name="quiet", allowed_hosts=REGISTRY_HOSTS))
    try:
        # Where an egress command finds the proxy (it answers: that command gets through)...
        seen = await output_of(driver, handle, "sh", "-c", 'echo "proxy=$HTTP_PROXY"', egress=True)
        proxy = seen.split("proxy=")[1].split()[0]
        assert proxy.startswith("http://")
        # ...is nowhere for a command without egress, nor for the deployed service.
        _, plain = await shell(driver, handle, "env | grep -ci proxy")
        assert plain.strip().endswith("0")
        through = await output_of(driver, handle, "python3", "-c", PROBE_URL, f"{proxy}/")
        assert "refused:" in through

        transcript = Transcript()
        service = await driver.start_service(
            handle,
            ["sh", "-c", f"env | grep -ci proxy; python3 -c '{PROBE_URL}' {proxy}/"],
            port=SERVICE_PORT,
            on_output=transcript,
        )
        await wait_for_service_exit(driver, handle, service)
        assert "0\nrefused:" in transcript.text, transcript.text
    finally:
        await driver.destroy(handle)


async def test_a_cache_keeps_what_trusted_builds_wrote_and_nothing_a_pull_request_did(
    isolating: Kind, tmp_path: Path
) -> None:
    driver = isolating.make(tmp_path / "state")
    key = f"project-{uuid.uuid4().hex[:8]}"  # Docker's volumes outlive the test: its own

    async def build(*, writeback: bool, script: str) -> str:
        spec = SandboxSpec(name="cached", cache_key=key, cache_writeback=writeback)
        handle = await driver.create(spec)
        try:
            return (await shell(driver, handle, script))[1]
        finally:
            await driver.destroy(handle)

    await build(writeback=True, script='echo base > "$PIP_CACHE_DIR.base"; echo "$PIP_CACHE_DIR"')
    seen = await build(writeback=False, script="cat /cache/pip.base; echo evil > /cache/pip.base")
    assert seen.endswith("base\n")
    again = await build(writeback=False, script="cat /cache/pip.base")
    assert again.endswith("base\n"), "a pull request's write reached the shared cache"


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
    assert Path(work_area(driver, handle), "src", "probe").exists()
    assert Path(work_area(driver, handle), "home", "probe").exists()
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
        code, _ = await shell(
            driver, handle, f"test -L /workspace/.sandbox/port-{SERVICE_PORT}.sock"
        )
        assert code == 0
        url = await driver.endpoint(handle, SERVICE_PORT)
        with pytest.raises(httpx.HTTPError):
            await get(f"{url}/")
    assert connections == []


async def test_bubblewrap_is_unavailable_without_bwrap(tmp_path: Path) -> None:
    assert not bubblewrap_available("/nonexistent/bwrap")
    driver = BubblewrapSandbox(tmp_path / "state", tmp_path / "work", bwrap="/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable):
        await driver.create(spec())


# --- what only the process driver says ----------------------------------------------------


async def test_the_process_driver_says_not_isolated_before_every_command_and_service(
    tmp_path: Path,
) -> None:
    driver = ProcessSandbox(tmp_path / "state", tmp_path / "work")
    handle = await driver.create(spec())
    try:
        command = Transcript()
        await driver.exec(handle, ["echo", "built"], on_output=command, timeout=60)
        assert command.text.splitlines()[0].count("NOT ISOLATED") == 1
        assert command.text.endswith("built\n")
        service = Transcript()
        started = await driver.start_service(
            handle, ["echo", "serving"], port=SERVICE_PORT, on_output=service
        )
        await wait_for_service_exit(driver, handle, started)
        await service.wait_for("serving")
        assert "NOT ISOLATED" in service.text.splitlines()[0]
        assert driver.isolated is False
    finally:
        await driver.destroy(handle)


async def test_a_sandbox_being_made_at_shutdown_is_reaped_whole_and_none_is_made_after(
    tmp_path: Path,
) -> None:
    kind = await sandbox_kind("bubblewrap", tmp_path)
    driver = kind.make(tmp_path / "state")
    running = await driver.create(spec())
    making = asyncio.create_task(driver.create(SandboxSpec(name="late", cache_key="p-1")))
    await asyncio.sleep(0)  # one turn of the loop: it has started making the sandbox
    await driver.reap(mine=True)  # the shutdown's reap waits for it, then undoes it
    with contextlib.suppress(SandboxUnavailable):  # undone, or refused: either is right
        await making
    mounts = Path("/proc/self/mounts").read_text()
    assert str(kind.work_root) not in mounts, "a mount outlived the shutdown's reap"
    assert not any((tmp_path / "state").rglob("*.json")), "a sandbox's record outlived it"
    with pytest.raises(SandboxUnavailable, match="shutting down"):
        await driver.create(spec())
    with pytest.raises(SandboxUnavailable, match="shutting down"):  # nor a command, nor a proxy
        await driver.exec(running, ["true"], on_output=Transcript(), timeout=5, egress=True)
