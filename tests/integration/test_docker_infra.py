"""The Docker test infrastructure works: the private daemon answers, the three test images run,
the limits a sandbox relies on (pids, memory, CPU, disk) are enforced by this engine, and its
networks behave as the docker sandbox assumes (an internal network's gateway reaches the host
unless its bridge has no address).

Everything here talks only to the private daemon and to containers these tests create; no test
reaches the network outside them (TESTING.md)."""

import contextlib
import io
import json
import os
import select
import socket
import subprocess
import tarfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.docker_daemon import DockerDaemon
from tests.support.images import TestImages
from tests.support.sandboxes import ON_DOCKER

# The first session on a fresh machine builds the images (about 80 s here) inside the first
# test's time.
pytestmark = [pytest.mark.timeout(900), ON_DOCKER]

# On everything these tests create, to clean it up: this session's own, since another session
# (a CI run beside a developer's) may be using the same daemon at the same time.
LABEL = f"codegenapp.test=docker-infra-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def daemon(docker_engine: DockerDaemon) -> DockerDaemon:
    return docker_engine


@pytest.fixture(scope="module")
def images(docker_images: TestImages) -> TestImages:
    return docker_images


@pytest.fixture(autouse=True)
def _nothing_left_behind(daemon: DockerDaemon) -> Iterator[None]:
    yield
    for kind in ("container", "network"):
        stopped_too = ["--all"] if kind == "container" else []  # an OOM-killed one, say
        listing = docker(daemon, kind, "ls", "--quiet", *stopped_too, "--filter", f"label={LABEL}")
        ids = listing.stdout.split()
        if kind == "container" and ids:
            docker(daemon, "rm", "--force", *ids)
        for network in ids if kind == "network" else []:
            # One by one: a network can go with its last container between listing and here.
            removed = docker(daemon, "network", "rm", network, check=False)
            assert removed.returncode == 0 or "not found" in removed.stderr, removed.stderr


def docker(
    daemon: DockerDaemon, *args: str, stdin: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["docker", "--host", daemon.host, *args],
        input=stdin, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{out}\n{err}")
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


def run(daemon: DockerDaemon, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
    """`docker run --rm` with the tests' label; returns stdout and stderr together."""
    done = docker(daemon, "run", "--rm", "--label", LABEL, *args, stdin=stdin, check=check)
    return done.stdout + done.stderr


def tar_of(files: dict[str, bytes]) -> bytes:
    """Files for a container's stdin: the source goes in through the engine, not a host path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size, member.mode = len(data), 0o644
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def probe_wheel() -> bytes:
    """A one-module wheel made here, so that pip installs without reaching an index."""
    dist_info = {
        "METADATA": "Metadata-Version: 2.1\nName: probe\nVersion: 1.0\n",
        "WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "RECORD": "",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("probe.py", "ANSWER = 'installed by pip'\n")
        for name, text in dist_info.items():
            wheel.writestr(f"probe-1.0.dist-info/{name}", text)
    return buffer.getvalue()


def wait_for_log(daemon: DockerDaemon, container: str, text: str, *, timeout: float = 30) -> None:
    """Returns once the container's output contains `text`; fails after `timeout` seconds."""
    follow = subprocess.Popen(
        ["docker", "--host", daemon.host, "logs", "--follow", container],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert follow.stdout is not None
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while text.encode() not in output:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([follow.stdout], [], [], max(remaining, 0))
            chunk = os.read(follow.stdout.fileno(), 65536) if ready else b""
            if not chunk:  # the deadline passed, or the container ended
                raise AssertionError(f"{container} never logged {text!r}:\n{output.decode()}")
            output += chunk
    finally:
        follow.kill()
        follow.wait()


def test_the_private_daemon_answers_on_its_own_socket(daemon: DockerDaemon) -> None:
    info = json.loads(docker(daemon, "info", "--format", "{{json .}}").stdout)
    assert daemon.host == "unix:///run/codegenapp-test-docker.sock"
    assert info["Driver"] == daemon.storage_driver
    assert info["DockerRootDir"].startswith("/var/lib/codegenapp-test-docker/")
    argv = Path(f"/proc/{daemon.pid}/cmdline").read_bytes().split(b"\0")
    assert Path(argv[0].decode()).name == "dockerd"


def test_the_tiny_image_has_a_shell_and_the_basic_tools(
    daemon: DockerDaemon, images: TestImages
) -> None:
    script = "echo hello | cat | head -n 1; dd if=/dev/zero bs=1024 count=3 2>/dev/null | wc -c"
    assert run(daemon, images.tiny, "sh", "-c", script).split() == ["hello", "3072"]


def test_the_runtime_image_has_python_node_npm_and_git(
    daemon: DockerDaemon, images: TestImages
) -> None:
    script = "python3 --version; node --version; npm --version; git --version; ps --version"
    output = run(daemon, images.runtime, "sh", "-c", script)
    assert "Python 3." in output
    assert "git version" in output
    assert "procps-ng" in output


def test_the_runtime_image_makes_a_venv_and_pip_installs_into_it(
    daemon: DockerDaemon, images: TestImages
) -> None:
    script = (
        "cd && tar -xf - && python3 -m venv venv && venv/bin/pip --version"
        " && venv/bin/pip install --quiet --no-index probe-1.0-py3-none-any.whl"
        " && venv/bin/python -c 'import probe; print(probe.ANSWER)'"
    )
    output = run(
        daemon, "-i", "--network", "none", "--user", "sandbox", images.runtime, "sh", "-c", script,
        stdin=tar_of({"probe-1.0-py3-none-any.whl": probe_wheel()}),
    )  # fmt: skip
    assert "pip 2" in output
    assert "installed by pip" in output


def test_the_runtime_image_runs_npm_ci_on_a_lockfile_version_3(
    daemon: DockerDaemon, images: TestImages
) -> None:
    dependencies = {"greeting": "file:greeting"}  # a local package: no registry needed
    package = {"name": "probe", "version": "1.0.0", "private": True, "dependencies": dependencies}
    lock = {
        "name": "probe",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "probe", "version": "1.0.0", "dependencies": dependencies},
            "greeting": {"version": "1.0.0"},
            "node_modules/greeting": {"resolved": "greeting", "link": True},
        },
    }
    project = tar_of(
        {
            "package.json": json.dumps(package).encode(),
            "package-lock.json": json.dumps(lock).encode(),
            "greeting/package.json": json.dumps({"name": "greeting", "version": "1.0.0"}).encode(),
            "greeting/index.js": b"module.exports = 'hello from npm ci';\n",
        }
    )
    script = (
        "cd && tar -xf - && npm ci --offline --no-audit --no-fund"
        " && node -e 'console.log(require(\"greeting\"))'"
    )
    output = run(
        daemon, "-i", "--network", "none", "--user", "sandbox", images.runtime, "sh", "-c", script,
        stdin=project,
    )  # fmt: skip
    assert "hello from npm ci" in output


def test_a_fork_loop_stops_at_the_pids_limit(daemon: DockerDaemon, images: TestImages) -> None:
    # 50 background sleeps, ended with the container: bounded even if the limit failed.
    fork_loop = 'i=0; while [ $i -lt 50 ]; do sleep 60 & i=$((i + 1)); done; echo "started $i"'
    assert "started 50" in run(daemon, "--pids-limit", "100", images.tiny, "sh", "-c", fork_loop)

    output = run(daemon, "--pids-limit", "20", images.tiny, "sh", "-c", fork_loop, check=False)
    assert "can't fork" in output
    assert "started" not in output


def test_an_allocation_beyond_the_memory_limit_is_killed(
    daemon: DockerDaemon, images: TestImages
) -> None:
    limits = ("--memory", "64m", "--memory-swap", "64m")  # no swap to escape to
    allocate = 'x=$(head -c {} /dev/zero | tr "\\0" a); echo "held ${{#x}}"'
    assert "held 16000000" in run(
        daemon, *limits, images.tiny, "sh", "-c", allocate.format(16_000_000)
    )

    name = f"oom-{uuid.uuid4().hex[:8]}"
    docker(daemon, "run", "--name", name, "--label", LABEL, *limits, images.tiny,
           "sh", "-c", allocate.format(200_000_000), check=False)  # fmt: skip
    state = json.loads(docker(daemon, "inspect", "--format", "{{json .State}}", name).stdout)
    assert state["OOMKilled"] is True
    assert state["ExitCode"] == 137


def test_a_busy_loop_gets_only_its_cpu_share(daemon: DockerDaemon, images: TestImages) -> None:
    window = 1.5  # seconds of wall time the loop spins
    script = (
        f"timeout {window} sh -c 'while :; do :; done';"
        # CPU time the container used, in ns: cgroup v1 here, v2 elsewhere.
        " cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null"
        " || awk '/usage_usec/ {print $2 * 1000}' /sys/fs/cgroup/cpu.stat"
    )
    done = docker(
        daemon, "run", "--rm", "--label", LABEL, "--cpus", "0.5", images.tiny, "sh", "-c", script
    )
    used = float(done.stdout.split()[-1]) / 1e9
    assert 0.2 * window < used < 0.7 * window, f"used {used:.2f} s of CPU in {window} s at 0.5 CPUs"


def test_a_write_beyond_the_disk_quota_fails(daemon: DockerDaemon, images: TestImages) -> None:
    quota = ("--storage-opt", "size=64M")
    if not daemon.disk_quota:
        # The engine here cannot enforce it: it must refuse, never ignore, the option.
        done = docker(
            daemon, "run", "--rm", "--label", LABEL, *quota, images.tiny, "true", check=False
        )
        assert done.returncode != 0
        return
    write = "dd if=/dev/zero of=/data bs=1M count={} 2>&1 && echo wrote"
    assert "wrote" in run(daemon, *quota, images.tiny, "sh", "-c", write.format(32))

    output = run(daemon, *quota, images.tiny, "sh", "-c", write.format(100), check=False)
    assert "Disk quota exceeded" in output
    assert "wrote" not in output


def test_the_egress_proxy_runs_unprivileged_and_refuses_other_hosts_by_name(
    daemon: DockerDaemon, images: TestImages, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    network, web, proxy = f"egress-{suffix}", f"web-{suffix}", f"proxy-{suffix}"
    docker(daemon, "network", "create", "--internal", "--label", LABEL, network)
    # httpd forks into the background once it listens: "ready" means it accepts connections.
    serve = "mkdir /www && echo hello >/www/index.html && httpd -p 8000 -h /www && echo ready"
    docker(daemon, "run", "--detach", "--name", web, "--label", LABEL, "--network", network,
           images.tiny, "sh", "-c", f"{serve} && exec sleep 600")  # fmt: skip
    (tmp_path / "custom.conf").write_text(
        "Port 8888\nListen 0.0.0.0\nTimeout 30\nLogLevel Info\n"
        'FilterDefaultDeny Yes\nFilterType fnmatch\nFilter "/etc/tinyproxy/allowed"\n'
    )
    (tmp_path / "allowed").write_text(f"{web}\n")
    docker(daemon, "create", "--name", proxy, "--label", LABEL, "--network", network,
           images.egress_proxy)  # fmt: skip
    for name in ("custom.conf", "allowed"):
        docker(daemon, "cp", str(tmp_path / name), f"{proxy}:/etc/tinyproxy/{name}")
    docker(daemon, "start", proxy)
    wait_for_log(daemon, web, "ready")
    wait_for_log(daemon, proxy, "Accepting connections")

    assert docker(daemon, "exec", proxy, "id", "-u").stdout.strip() != "0"
    client = ("--network", network, "--env", f"http_proxy=http://{proxy}:8888", images.tiny)
    assert run(daemon, *client, "wget", "-q", "-O-", f"http://{web}:8000/").strip() == "hello"
    refused = run(daemon, *client, "wget", "-O-", "http://elsewhere.invalid/", check=False)
    assert "403 Filtered" in refused


@contextlib.contextmanager
def host_listener() -> Iterator[tuple[int, list[str]]]:
    """A listener on every interface of this host (0.0.0.0): its port, and who connected."""
    connected: list[str] = []
    server = socket.create_server(("0.0.0.0", 0))  # noqa: S104 - what the test is about
    server.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, address = server.accept()
            except TimeoutError:
                continue
            connected.append(address[0])
            client.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], connected
    finally:
        stop.set()
        thread.join()
        server.close()


def reaches_host_through_gateway(
    daemon: DockerDaemon, images: TestImages, port: int, connected: list[str], *options: str
) -> bool:
    """Whether a container alone on a new internal network (made with `options`) connects
    to `port` on this host at its network's gateway address."""
    network = f"internal-{uuid.uuid4().hex[:8]}"
    docker(daemon, "network", "create", "--internal", "--label", LABEL, *options, network)
    connected.clear()
    probe = f"nc -w 3 $(ip route | awk '/default/ {{print $3}}') {port} </dev/null"
    run(daemon, "--network", network, images.tiny, "sh", "-c", probe, check=False)
    return bool(connected)


def test_an_internal_network_reaches_host_listeners_unless_its_bridge_has_no_address(
    daemon: DockerDaemon, images: TestImages
) -> None:
    # Why the docker sandbox makes its network with inhibit_ipv4: --internal alone leaves the
    # bridge's gateway address on the host, and the host's INPUT chain accepts what comes in.
    no_address = ("--opt", "com.docker.network.bridge.inhibit_ipv4=true")
    with host_listener() as (port, connected):
        assert reaches_host_through_gateway(daemon, images, port, connected)
        assert not reaches_host_through_gateway(daemon, images, port, connected, *no_address)


def test_the_egress_proxy_image_has_socat(daemon: DockerDaemon, images: TestImages) -> None:
    assert "socat version 1." in run(daemon, images.egress_proxy, "socat", "-V")
