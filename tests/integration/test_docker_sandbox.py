"""What only the docker sandbox promises, on the private test daemon: a missing image is named;
a sandbox dies with the worker that made it, even by SIGKILL, and the reaper removes what is
left; it works over TCP as on a remote daemon, with no host path in any call; the host's own
listeners (on 0.0.0.0 too) are out of reach; and no proxy answers a command or a service that
was not given egress. The behaviour every driver shares is in test_sandbox_contract.py."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.support.sandboxes import (
    ON_DOCKER,
    SESSION_NAMESPACE,
    Docker,
    Transcript,
    docker_cli,
    output_of,
    shell,
    wait_for_service_exit,
)

from codegenapp.domain.network_policy import REGISTRY_HOSTS
from codegenapp.drivers.sandbox import ResourceLimits, SandboxHandle, SandboxSpec
from codegenapp.drivers.sandbox.docker import DockerSandbox
from codegenapp.errors import SandboxError, SandboxUnavailable, StepTimedOut

# The first session on a fresh machine builds the test images inside the first test's time.
pytestmark = [pytest.mark.timeout(900), ON_DOCKER]

SERVICE_PORT = 8000
SERVICE = """
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ["ANSWER"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("listening", flush=True)
server.serve_forever()
"""

# Connects to host:port pairs, all at once; one line each: reached, or why not.
PROBE = """
import socket, sys, threading
def probe(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        print("reached", target, flush=True)
    except OSError as error:
        print("unreachable", target, type(error).__name__, flush=True)
threads = [threading.Thread(target=probe, args=(target,)) for target in sys.argv[1:]]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""

# A worker that makes a sandbox, starts a service in it that keeps beating, says the
# sandbox's id, and waits to be killed.
WORKER = """
import asyncio, json, sys
from codegenapp.drivers.sandbox import SandboxSpec
from codegenapp.drivers.sandbox.docker import DockerSandbox

async def main(config):
    driver = DockerSandbox(config["host"], proxy_image=config["proxy"], image=config["image"],
                           namespace=config["namespace"])
    handle = await driver.create(SandboxSpec(name="orphan"))
    async def ignore(chunk):
        pass
    beat = "n=0; while :; do n=$((n+1)); echo $n > beat; sleep 0.05; done"
    await driver.start_service(handle, ["sh", "-c", beat], port=8000, on_output=ignore)
    print(handle.id, flush=True)
    await asyncio.Event().wait()

asyncio.run(main(json.loads(sys.argv[1])))
"""


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        return await client.get(url)


async def containers_gone(docker: Docker, timeout: float = 20.0) -> list[str]:
    """Wait until no container of the session is left; what else is left then."""
    async with asyncio.timeout(timeout):
        while True:
            left = await asyncio.to_thread(docker.leftovers)
            if not [entry for entry in left if entry.startswith("container ")]:
                return left
            await asyncio.sleep(0.05)


@pytest.fixture
async def driver(docker: Docker) -> DockerSandbox:
    return docker.driver()


@pytest.fixture
async def handle(driver: DockerSandbox) -> AsyncIterator[SandboxHandle]:
    handle = await driver.create(SandboxSpec(name="docker-only"))
    yield handle
    await driver.destroy(handle)


async def test_a_missing_image_that_cannot_be_pulled_is_named(docker: Docker) -> None:
    driver = docker.driver()
    with pytest.raises(SandboxUnavailable) as refused:
        await driver.create(SandboxSpec(name="missing", image="codegenapp-test/absent:1"))
    assert str(refused.value).startswith(
        f"image codegenapp-test/absent:1 is not on the Docker daemon at {docker.daemon.host} "
        "and could not be pulled: "
    )
    assert docker.leftovers() == []


async def test_a_sandbox_dies_with_its_worker_and_the_reaper_removes_the_rest(
    docker: Docker,
) -> None:
    config = {
        "host": docker.daemon.host,
        "proxy": docker.images.egress_proxy,
        "image": docker.images.runtime,
        "namespace": SESSION_NAMESPACE,
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, json.dumps(config),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), 120)
        handle = SandboxHandle(driver="docker", id=line.decode().strip())
        driver = docker.driver()
        first = await output_of(driver, handle, "cat", "beat")
        async with asyncio.timeout(20):  # the service beats every 50 ms
            while await output_of(driver, handle, "cat", "beat") == first:
                pass
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()

    left = await containers_gone(docker)
    assert left, "a killed worker leaves its network and relay volume for the reaper"
    with pytest.raises(SandboxError):
        await driver.exec(handle, ["true"], on_output=Transcript(), timeout=10)
    assert handle.id in await driver.reap(grace_s=0)
    assert docker.leftovers() == []


async def test_the_reaper_spares_live_sandboxes_and_caches_and_with_mine_takes_its_own(
    docker: Docker,
) -> None:
    driver, stranger = docker.driver(), docker.driver()
    handle = await driver.create(SandboxSpec(name="live", cache_key="reaper-test"))
    try:
        assert handle.id not in await stranger.reap(grace_s=0)
        assert await output_of(driver, handle, "echo", "alive") == "alive\n"
        assert handle.id in await driver.reap(mine=True, grace_s=0)
    finally:
        await driver.destroy(handle)
    assert docker.leftovers() == []
    cache = f"{SESSION_NAMESPACE}-cache-reaper-test"
    assert docker_cli(docker.daemon.host, "volume", "ls", "--quiet").split().count(cache) == 1


class Recorder:
    """A TCP listener on loopback that stands for a remote daemon: it relays each connection
    to the test daemon's socket and keeps every byte the driver sent."""

    def __init__(self, socket_path: str) -> None:
        self.sent = bytearray()
        self._socket_path = socket_path
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"tcp://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        daemon_reader, daemon_writer = await asyncio.open_unix_connection(self._socket_path)

        async def copy(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, keep: bool
        ) -> None:
            try:
                while chunk := await source.read(65536):
                    if keep:
                        self.sent += chunk
                    sink.write(chunk)
                    await sink.drain()
                if sink.can_write_eof():
                    sink.write_eof()
            except OSError:
                pass

        await asyncio.gather(copy(reader, daemon_writer, True), copy(daemon_reader, writer, False))
        for side in (writer, daemon_writer):
            side.close()


async def test_over_tcp_as_on_a_remote_daemon_no_host_path_reaches_docker(
    docker: Docker, tmp_path: Path
) -> None:
    recorder = Recorder(docker.daemon.host.removeprefix("unix://"))
    driver = docker.driver(host=await recorder.start())
    handle = await driver.create(SandboxSpec(name="remote", env={"ANSWER": "from afar"}))
    try:

        async def write(path: Path) -> None:
            path.mkdir()
            (path / "service.py").write_text(SERVICE)

        await driver.put_tree(handle, write)
        transcript = Transcript()
        await driver.start_service(
            handle, ["python3", "service.py"], port=SERVICE_PORT, on_output=transcript
        )
        await transcript.wait_for("listening")
        url = await driver.endpoint(handle, SERVICE_PORT)
        assert url.startswith("http://127.0.0.1:")  # the publish address, on the daemon's host
        assert (await get(url)).text == "from afar"
    finally:
        await driver.destroy(handle)
    assert recorder.server is not None
    recorder.server.close()
    sent = bytes(recorder.sent)
    assert b"POST /v1.41/containers/create" in sent
    repository = Path(__file__).resolve().parents[2]
    for host_path in (str(tmp_path), str(repository), sys.prefix, "codegenapp-tree-"):
        assert host_path.encode() not in sent, f"{host_path} went to the daemon"
    assert b'"Binds"' not in sent
    assert b'"Type": "bind"' not in sent


async def test_no_host_listener_is_reachable_even_on_all_interfaces(
    driver: DockerSandbox, handle: SandboxHandle
) -> None:
    connections: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append("connected")
        writer.close()

    server = await asyncio.start_server(record, "0.0.0.0", 0)  # noqa: S104 - the point
    port = server.sockets[0].getsockname()[1]
    listed = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True)
    addresses = {line.split()[3].split("/")[0] for line in listed.stdout.splitlines()}
    # The sandbox's own gateway: an internal network's bridge address, were it to have one.
    routes = await output_of(driver, handle, "cat", "/proc/net/route")
    gateways = {
        ".".join(str(int(fields[2][i : i + 2], 16)) for i in (6, 4, 2, 0))
        for fields in (line.split() for line in routes.splitlines()[1:])
        if len(fields) > 2 and fields[2] != "00000000"
    }
    assert gateways, routes
    targets = [f"{address}:{port}" for address in sorted(addresses | gateways)]
    async with server:
        seen = await output_of(driver, handle, "python3", "-c", PROBE, *targets)
    assert seen.count("unreachable") == len(targets), seen
    assert connections == []


async def test_without_egress_nothing_answers_on_the_proxy_port(docker: Docker) -> None:
    driver = docker.driver()
    handle = await driver.create(SandboxSpec(name="quiet", allowed_hosts=REGISTRY_HOSTS))
    try:
        proxy = (
            await output_of(driver, handle, "sh", "-c", 'echo "$http_proxy"', egress=True)
        ).strip()
        assert proxy.startswith("http://"), proxy
        target = proxy.removeprefix("http://")
        # While a command with egress runs, the proxy answers it (so the probe can tell).
        during = await output_of(driver, handle, "python3", "-c", PROBE, target, egress=True)
        assert during.startswith("reached"), during

        _code, plain = await shell(driver, handle, "env | grep -ci proxy; echo checked")
        assert plain.endswith("0\nchecked\n")
        after = await output_of(driver, handle, "python3", "-c", PROBE, target)
        assert after.startswith("unreachable"), after

        transcript = Transcript()
        service = await driver.start_service(
            handle,
            ["sh", "-c", f"env | grep -ci proxy; python3 -c '{PROBE}' {target}"],
            port=SERVICE_PORT,
            on_output=transcript,
        )
        await wait_for_service_exit(driver, handle, service)
        assert transcript.text.startswith("0\nunreachable"), transcript.text
    finally:
        await driver.destroy(handle)


async def test_a_daemon_that_left_its_session_and_parent_dies_with_the_timeout(
    driver: DockerSandbox, handle: SandboxHandle
) -> None:
    # The isolation checklist's probe: the grandchild is orphaned at once, in a new session.
    script = "(setsid flock -x held.lock sleep 600 &) ; sleep 600"
    with pytest.raises(StepTimedOut):
        await driver.exec(handle, ["sh", "-c", script], on_output=Transcript(), timeout=2)
    code, _ = await shell(driver, handle, "flock -n held.lock true")
    assert code == 0, "the orphaned grandchild still holds its lock"


async def test_a_service_started_again_on_its_port_replaces_the_first(
    driver: DockerSandbox, handle: SandboxHandle
) -> None:
    services = []
    for answer in ("first", "second"):
        transcript = Transcript()
        services.append(
            await driver.start_service(
                handle,
                ["python3", "-c", SERVICE],
                port=SERVICE_PORT,
                on_output=transcript,
                env={"ANSWER": answer},
            )
        )
        await transcript.wait_for("listening")
    assert await wait_for_service_exit(driver, handle, services[0]) == 128 + 9
    assert await driver.service_exit_code(handle, services[1]) is None
    assert (await get(await driver.endpoint(handle, SERVICE_PORT))).text == "second"
    with pytest.raises(SandboxError):
        await driver.endpoint(handle, SERVICE_PORT + 1)


async def test_the_disk_quota_bounds_the_sandbox(docker: Docker) -> None:
    driver = docker.driver()
    handle = await driver.create(SandboxSpec(name="disk", limits=ResourceLimits(disk_mb=64)))
    try:
        if not docker.daemon.disk_quota:
            assert driver.limitations(), "an unlimited disk must be said"
            return
        assert driver.limitations() == []
        code, output = await shell(driver, handle, "head -c 100000000 /dev/zero > fill")
        assert code != 0
        assert "Disk quota exceeded" in output, output

        async def write(path: Path) -> None:
            path.mkdir()
            (path / "big").write_bytes(os.urandom(80 * 1024 * 1024))

        await shell(driver, handle, "rm -f fill")
        with pytest.raises(SandboxError):
            await driver.put_tree(handle, write)
    finally:
        await driver.destroy(handle)


async def test_a_cache_written_back_over_its_cap_is_emptied(docker: Docker) -> None:
    driver = DockerSandbox(
        docker.daemon.host,
        proxy_image=docker.images.egress_proxy,
        image=docker.images.runtime,
        namespace=SESSION_NAMESPACE,
        cache_max_mb=1,
    )

    async def build(script: str, *, writeback: bool = True) -> str:
        spec = SandboxSpec(name="capped", cache_key="capped-test", cache_writeback=writeback)
        handle = await driver.create(spec)
        try:
            return await output_of(driver, handle, "sh", "-c", script)
        finally:
            await driver.destroy(handle)

    await build("echo small > /cache/kept")
    assert (await build("cat /cache/kept; head -c 3000000 /dev/zero > /cache/big")) == "small\n"
    assert (await build("ls -A /cache; echo listed", writeback=False)) == "listed\n"
