"""The egress proxy (a real tinyproxy): allowed names get through, everything else is refused
by name before any lookup or connection, and real pip and npm install through it.

Only loopback is ever contacted, except by pip and npm through the proxy (TESTING.md). A
refusal is proved by tinyproxy's own 403, and "before connecting" by listeners of ours on
127.0.0.1 that must see no connection. Look-alikes of real registry names are asked of a
proxy whose every outgoing connection goes to an upstream of ours on loopback: if the filter
ever let one through, it would reach that upstream, never the internet.
"""

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.egress_proxy import EgressProxy, run_egress_proxy

from codegenapp.domain.network_policy import REGISTRY_HOSTS
from codegenapp.drivers.sandbox.egress import (
    Refusal,
    parse_refusal,
    proxy_environment,
    refusals,
    trust_environment,
)

pytestmark = pytest.mark.slow

ANSWER = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
SENTINEL = b"GET /sentinel HTTP/1.0\r\n\r\n"
REPLY_TIMEOUT_S = 10
INSTALL_TIMEOUT_S = 240


class Listener:
    """A TCP server on 127.0.0.1 that reads one request head, answers it and closes; it
    remembers every connection and every head it read."""

    def __init__(self) -> None:
        self.connections = 0
        self.heads: list[bytes] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        if head == SENTINEL:
            self.connections -= 1
        else:
            self.heads.append(head)
        writer.write(ANSWER)
        await writer.drain()
        writer.close()

    async def count(self) -> int:
        """Connections so far. Ours is answered only after every earlier one was counted
        (connections are accepted in order), so nothing still in flight is missed."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(SENTINEL)
        await asyncio.wait_for(reader.read(), REPLY_TIMEOUT_S)
        writer.close()
        return self.connections


async def _listener() -> AsyncIterator[Listener]:
    listener = Listener()
    server = await asyncio.start_server(listener.serve, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    async with server:
        yield listener


@pytest.fixture
async def target() -> AsyncIterator[Listener]:
    """What the tests try to reach through the proxy, as `localhost`."""
    async for listener in _listener():
        yield listener


@pytest.fixture
async def bystander() -> AsyncIterator[Listener]:
    """A second listener, on a port the proxy does not allow."""
    async for listener in _listener():
        yield listener


@pytest.fixture
async def sink() -> AsyncIterator[Listener]:
    """The upstream of the look-alike tests' proxy: whatever gets through arrives here."""
    async for listener in _listener():
        yield listener


@pytest.fixture(autouse=True)
def tinyproxy_installed() -> None:
    if shutil.which("tinyproxy") is None:
        pytest.fail("tinyproxy is missing: run scripts/setup-system.sh (apt-get install tinyproxy)")


@pytest.fixture
async def local_proxy(tmp_path: Path, target: Listener) -> AsyncIterator[EgressProxy]:
    """Allows `localhost` on the target's port only, for CONNECT and plain HTTP alike."""
    async with run_egress_proxy(
        ["localhost"], tmp_path / "local", https_port=target.port, http_port=target.port
    ) as proxy:
        yield proxy


@pytest.fixture
async def registry_proxy(tmp_path: Path, sink: Listener) -> AsyncIterator[EgressProxy]:
    """Allows the registries, and sends what it lets through to `sink`, on loopback."""
    async with run_egress_proxy(
        REGISTRY_HOSTS, tmp_path / "registries", upstream=f"127.0.0.1:{sink.port}"
    ) as proxy:
        yield proxy


async def ask(proxy: EgressProxy, head: str) -> tuple[int, bytes]:
    """Send one request head to the proxy; its status and the rest of what it sent back."""
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        writer.write(head.encode())
        reply = await asyncio.wait_for(reader.read(), REPLY_TIMEOUT_S)
    finally:
        writer.close()
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), rest


def connect(target: str) -> str:
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"


def get(url: str, host: str | None = None) -> str:
    host_header = f"Host: {host}\r\n" if host is not None else ""
    return f"GET {url} HTTP/1.1\r\n{host_header}Connection: close\r\n\r\n"


async def test_a_connect_to_an_allowed_name_and_port_opens_a_tunnel_to_it(
    local_proxy: EgressProxy, target: Listener
) -> None:
    reader, writer = await asyncio.open_connection(local_proxy.host, local_proxy.port)
    writer.write(connect(f"localhost:{target.port}").encode())
    assert (await asyncio.wait_for(reader.readline(), REPLY_TIMEOUT_S)).split()[1] == b"200"
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REPLY_TIMEOUT_S)
    writer.write(b"GET /through-the-tunnel HTTP/1.0\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), REPLY_TIMEOUT_S)).endswith(b"hello")
    writer.close()
    assert target.heads == [b"GET /through-the-tunnel HTTP/1.0\r\n\r\n"]


async def test_plain_http_to_an_allowed_name_gets_through_without_a_trace_of_the_proxy(
    local_proxy: EgressProxy, target: Listener
) -> None:
    url = f"http://localhost:{target.port}/index"
    status, body = await ask(local_proxy, get(url, host="evil.example"))
    assert (status, body.endswith(b"hello")) == (200, True)
    [head] = target.heads
    assert head.startswith(b"GET /index HTTP/1.")
    assert f"\r\nHost: localhost:{target.port}\r\n".encode() in head  # from the URL, not ours
    for header in (b"via:", b"x-tinyproxy:", b"forwarded:", b"x-forwarded-for:"):
        assert header not in head.lower()


async def test_an_allowed_name_on_another_port_is_refused_before_connecting(
    local_proxy: EgressProxy, target: Listener, bystander: Listener
) -> None:
    assert (await ask(local_proxy, connect(f"localhost:{bystander.port}")))[0] == 403
    assert (await ask(local_proxy, get(f"http://localhost:{bystander.port}/")))[0] == 403
    assert (await ask(local_proxy, get("/", host=f"localhost:{bystander.port}")))[0] == 403
    assert await bystander.count() == 0
    assert await local_proxy.refusals() == [Refusal("localhost", bystander.port)] * 3


async def test_an_ip_literal_is_refused_even_where_the_allowed_name_points(
    local_proxy: EgressProxy, target: Listener
) -> None:
    for address in ("127.0.0.1", "[::1]", "2130706433", "127.1"):
        assert (await ask(local_proxy, connect(f"{address}:{target.port}")))[0] == 403
        assert (await ask(local_proxy, get(f"http://{address}:{target.port}/")))[0] == 403
    assert await target.count() == 0


async def test_a_name_that_is_not_allowed_is_refused_before_any_lookup_or_connection(
    tmp_path: Path, target: Listener
) -> None:
    # Only the registries are allowed, on the target's port: `localhost` resolves to the
    # target, so any lookup-then-connect would show there.
    async with run_egress_proxy(
        REGISTRY_HOSTS, tmp_path / "proxy", https_port=target.port, http_port=target.port
    ) as proxy:
        status, body = await ask(proxy, connect(f"localhost:{target.port}"))
        assert (await ask(proxy, get(f"http://localhost:{target.port}/")))[0] == 403
        assert (await ask(proxy, get("/", host=f"localhost:{target.port}")))[0] == 403
        assert await target.count() == 0
        assert status == 403
        assert b"Filtered" in body
        assert [str(refusal) for refusal in await proxy.refusals()] == [
            f"egress proxy refused localhost:{target.port} (not an allowed host)"
        ] * 3


@pytest.mark.parametrize(
    ("request_head", "reported"),
    [
        (connect("pypi.org.evil.example:443"), "pypi.org.evil.example:443"),
        (connect("evilpypi.org:443"), "evilpypi.org:443"),
        (connect("pypi.org:22"), "pypi.org:22"),
        (connect("pypi.org:4430"), "pypi.org:4430"),
        (connect("pypi.org:443x"), "[pypi.org:443x]:443"),
        (connect("pypi.org.:443"), "pypi.org.:443"),
        (connect("user@pypi.org:443"), "user@pypi.org:443"),
        (connect("evil.example@pypi.org:443"), "evil.example@pypi.org:443"),
        (connect("pypi.org/x:443"), "pypi.org/x:443"),
        (connect("files.pythonhosted.org.evil:443"), "files.pythonhosted.org.evil:443"),
        (connect("xregistry.npmjs.org:443"), "xregistry.npmjs.org:443"),
        (connect("192.0.2.1:443"), "192.0.2.1:443"),
        (connect("[2001:db8::1]:443"), "[2001:db8::1]:443"),
        (get("http://evil.example/"), "evil.example:80"),
        (get("http://pypi.org.evil.example/"), "pypi.org.evil.example:80"),
        (get("http://deb.debian.org:8080/"), "deb.debian.org:8080"),
        (get("http://deb.debian.org@evil.example/"), "deb.debian.org@evil.example:80"),
        (get("http://deb.debian.org:80@evil.example/"), "[deb.debian.org:80@evil.example]:80"),
        (get("http://evil.example/http://deb.debian.org/"), "evil.example:80"),
        # Not in proxy form: tinyproxy builds http://<Host header>:<port><path> and connects
        # to the Host header's name, which may hold a '/' to make the URL look allowed.
        (get("/", host="evil.example"), "evil.example:80"),
        (get("/", host="deb.debian.org:22"), "deb.debian.org:22"),
        (get("/", host="deb.debian.org/x:22"), "deb.debian.org:80"),
        (get("/x", host="evil.example/deb.debian.org"), "evil.example:80"),
    ],
)  # fmt: skip
async def test_look_alikes_of_allowed_names_are_refused_and_reported_as_written(
    registry_proxy: EgressProxy, sink: Listener, request_head: str, reported: str
) -> None:
    status, _ = await ask(registry_proxy, request_head)
    assert status == 403
    assert await sink.count() == 0
    [refusal] = await registry_proxy.refusals()
    assert str(refusal) == f"egress proxy refused {reported} (not an allowed host)"


@pytest.mark.parametrize("request_head", [get("/"), get("https://deb.debian.org/")])
async def test_a_request_for_the_proxy_itself_is_refused_as_a_bad_request(
    registry_proxy: EgressProxy, sink: Listener, request_head: str
) -> None:
    # Without a Host header, tinyproxy takes the address the client connected to, its own.
    assert (await ask(registry_proxy, request_head))[0] == 400
    assert await sink.count() == 0


async def test_the_look_alike_tests_would_see_what_the_filter_lets_through(
    registry_proxy: EgressProxy, sink: Listener
) -> None:
    # The control for the test above: allowed names, in either case, reach the upstream.
    await ask(registry_proxy, connect("PyPI.org:443"))
    await ask(registry_proxy, get("http://deb.debian.org/debian/dists/bookworm/InRelease"))
    assert await sink.count() == 2
    assert [head.split(b"\r\n")[0] for head in sink.heads] == [
        b"CONNECT PyPI.org:443 HTTP/1.1",
        b"GET http://deb.debian.org:80/debian/dists/bookworm/InRelease HTTP/1.1",
    ]
    assert await registry_proxy.refusals() == []


async def test_started_as_root_the_proxy_runs_as_nobody(local_proxy: EgressProxy) -> None:
    status = Path(f"/proc/{local_proxy.pid}/status").read_text()
    [uids] = [line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")]
    expected = "65534" if os.geteuid() == 0 else str(os.geteuid())
    assert set(uids) == {expected}


@pytest.mark.parametrize(
    ("line", "refusal"),
    [
        ('NOTICE    Dec 07 00:19:01.009 [11537]: Proxying refused on filtered url "evil.com:443"',
         Refusal("evil.com", 443)),
        ('NOTICE x: Proxying refused on filtered url "http://evil.com/a:b"',
         Refusal("evil.com", 80)),
        ('NOTICE x: Proxying refused on filtered url "HTTP://u@evil.com:8080/"',
         Refusal("u@evil.com", 8080)),
        ('NOTICE x: Proxying refused on filtered url "[::1]:22"', Refusal("::1", 22)),
        ('NOTICE x: Proxying refused on filtered url "evil.com:0"', Refusal("evil.com", 0)),
        ('NOTICE x: Proxying refused on filtered url "e\x1b[31mvil:443', Refusal("e?[31mvil", 443)),
        ('NOTICE x: Proxying refused on filtered domain "evil.com"', Refusal("evil.com", 443)),
    ],
)  # fmt: skip
def test_refusal_lines_give_the_host_as_written_and_the_port(line: str, refusal: Refusal) -> None:
    assert parse_refusal(line) == refusal
    host, port = parse_refusal(line) or ("", 0)
    assert (host, port) == (refusal.host, refusal.port)


def test_other_log_lines_are_no_refusals() -> None:
    log = (
        "NOTICE    Dec 07 00:23:26.150 [9464]: Initializing tinyproxy ...\n"
        "ERROR     Dec 07 00:23:26.154 [9464]: read_request_line: Client (file descriptor: 4)"
        " closed socket before read.\n"
        'NOTICE    Dec 07 00:23:27.001 [9464]: Proxying refused on filtered url "a.example:443"\n'
    )
    assert refusals(log) == [Refusal("a.example", 443)]
    assert str(Refusal("::1", 443)) == "egress proxy refused [::1]:443 (not an allowed host)"


def test_the_proxy_environment_names_the_proxy_in_every_spelling_clients_read() -> None:
    environment = proxy_environment("http://127.0.0.1:3128")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        assert environment[name] == "http://127.0.0.1:3128"
    assert environment["NO_PROXY"] == environment["no_proxy"] == "localhost,127.0.0.1,::1"
    for wrong in ("127.0.0.1:3128", "https://127.0.0.1:3128", "http://u:p@h:1", "http://h/x"):
        with pytest.raises(ValueError, match="give the proxy as http://host:port"):
            proxy_environment(wrong)


def isolated_from_this_machine(home: Path) -> dict[str, str]:
    """What keeps this machine's own pip and npm settings (/etc/pip.conf points pip at local
    wheel directories; /usr/etc/npmrc names a CA file) out of a test that must show what a
    clean sandbox needs: nothing here reaches the network or trusts anything."""
    for name in ("global-npmrc", "user-npmrc"):  # npm refuses one file for both
        (home / name).write_text("")
    return {
        "PIP_CONFIG_FILE": os.devnull,
        "npm_config_globalconfig": str(home / "global-npmrc"),
        "npm_config_userconfig": str(home / "user-npmrc"),
    }


async def run(argv: list[str], *, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), INSTALL_TIMEOUT_S)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


async def test_pip_in_a_fresh_venv_installs_from_pypi_through_the_proxy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    venv = tmp_path / "venv"
    base = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    code, output = await run([sys.executable, "-m", "venv", str(venv)], env=base, cwd=tmp_path)
    assert code == 0, output
    async with run_egress_proxy(REGISTRY_HOSTS, tmp_path / "proxy", log_connections=True) as proxy:
        env = {
            "PATH": f"{venv}/bin:/usr/bin:/bin",
            "HOME": str(home),
            **proxy_environment(proxy.url),
            **trust_environment(),
            **isolated_from_this_machine(home),
        }
        # No cache: a cached wheel would install without the proxy.
        pip = [f"{venv}/bin/pip", "install", "--no-cache-dir", "--disable-pip-version-check"]
        code, output = await run([*pip, "six==1.17.0"], env=env, cwd=tmp_path)
        log = proxy.log_path.read_text()
        assert code == 0, output + log
        assert await proxy.refusals() == []
    code, output = await run([f"{venv}/bin/python", "-c", "import six"], env=base, cwd=tmp_path)
    assert code == 0, output
    for host in ("pypi.org", "files.pythonhosted.org"):
        assert f'Established connection to host "{host}"' in log


async def test_npm_installs_from_the_registry_through_the_proxy(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm is part of every machine here (TESTING.md)"
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    (project / "package.json").write_text('{"name": "egress-test", "version": "1.0.0"}\n')
    async with run_egress_proxy(REGISTRY_HOSTS, tmp_path / "proxy", log_connections=True) as proxy:
        env = {
            "PATH": f"{Path(npm).parent}:/usr/bin:/bin",
            "HOME": str(home),
            **proxy_environment(proxy.url),
            **trust_environment(),
            **isolated_from_this_machine(home),
        }
        flags = ["--no-audit", "--no-fund", "--no-update-notifier", "--cache", str(home / "npm")]
        code, output = await run([npm, "install", *flags, "ms@2.1.3"], env=env, cwd=project)
        log = proxy.log_path.read_text()
        assert code == 0, output + log
        assert await proxy.refusals() == []
    assert (project / "node_modules" / "ms" / "package.json").is_file()
    assert 'Established connection to host "registry.npmjs.org"' in log
