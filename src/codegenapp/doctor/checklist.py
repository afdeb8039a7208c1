"""The isolation checklist: what untrusted pull-request code tries first, run against a real
sandbox. Every probe must be contained; `codegenapp doctor --isolation` prints one line per
probe, and the test suite runs it over every sandbox on the machine.

Each probe runs as the code of a pull request would: a shell command inside the sandbox. What
it could reach is set up on this host by the checklist itself (a canary file, a listener on
loopback, a process with a secret on its command line), and torn down afterwards.
"""

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from codegenapp.domain.network_policy import REGISTRY_HOSTS
from codegenapp.drivers.registry import make_sandbox
from codegenapp.drivers.sandbox import ResourceLimits, Sandbox, SandboxHandle, SandboxSpec
from codegenapp.errors import SandboxError, StepTimedOut
from codegenapp.settings import Settings

LIMITS = ResourceLimits(cpus=1, memory_mb=256, pids=64, disk_mb=128, file_size_mb=4096)
COMMAND_TIMEOUT_S = 60.0
FORKS = 200  # well past LIMITS.pids
ALLOCATE_MB = 1024  # well past LIMITS.memory_mb
WRITE_MB = 512  # well past LIMITS.disk_mb
HOST_PORTS = (5432, 6379)  # PostgreSQL and Redis on this host's loopback, where they run
EGRESS_PROXY = "http://127.0.0.1:3128"

MakeSandbox = Callable[[], Sandbox]
"""A fresh driver instance each call, as a new worker process would make one."""
HEARTBEAT = "n=0; while :; do n=$((n+1)); echo $n > beat; sleep 0.05; done"
ORPHAN_GRACE_S = 5.0  # the kernel takes a moment to carry a death down a process tree
BEAT_GAP_S = 0.3


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    contained: bool
    detail: str

    def line(self, sandbox: str) -> str:
        verdict = "contained" if self.contained else "ESCAPED"
        detail = " ".join(self.detail.split())  # one line, whatever the sandbox printed
        return f"{sandbox:<11} {self.name:<24} {verdict:<9} {detail}"


@dataclass(frozen=True, slots=True)
class Orphan:
    """A worker made to die: what it left running (a sandbox whose service writes a
    heartbeat), for the checklist to watch after the kill."""

    handle: SandboxHandle
    pid: int


@contextlib.asynccontextmanager
async def orphaned(settings: Settings, kind: str, image: str) -> AsyncIterator[Orphan]:
    """A separate worker process (doctor/orphan.py) that has made a sandbox and started a
    service in it, and now waits to be killed."""
    config = json.dumps(
        {
            "home": str(settings.home),
            "kind": kind,
            "image": image,
            "docker_host": settings.docker_host,
            "egress_proxy_image": settings.egress_proxy_image,
        }
    )
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codegenapp.doctor.orphan",
        config,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), COMMAND_TIMEOUT_S)
        if not line:
            assert worker.stderr is not None
            said = (await worker.stderr.read()).decode(errors="replace").strip().splitlines()
            raise SandboxError(
                f"the probe worker exited with {await worker.wait()} first: "
                f"{said[-1] if said else 'it said nothing'}"
            )
        yield Orphan(SandboxHandle.from_stored(json.loads(line)), worker.pid)
    finally:
        if worker.returncode is None:
            worker.kill()
        await worker.wait()


async def run_checklist(settings: Settings, kind: str, *, image: str = "") -> list[Probe]:
    """Every probe against `kind` sandboxes made with `settings` (give it a home of its own:
    the checklist makes and removes sandboxes there), in order."""

    def make() -> Sandbox:
        return make_sandbox(kind, settings)

    driver = make()
    spec = SandboxSpec(name="isolation-check", limits=LIMITS, image=image)
    egress_spec = SandboxSpec(
        name="isolation-egress", limits=LIMITS, image=image, allowed_hosts=REGISTRY_HOSTS
    )
    probes: list[Probe] = []
    async with _sandbox(driver, spec) as handle:
        probes.append(await _host_file(driver, handle))
        probes.append(await _host_listener(driver, handle))
        probes.append(await _host_secrets(driver, handle))
        probes.append(await _processes(driver, handle))
        probes.append(await _memory(driver, handle))
        probes.append(await _disk(driver, handle))
        probes.append(await _timeout(driver, handle))
    async with _sandbox(driver, egress_spec) as handle:
        probes.append(await _egress(driver, handle))
    probes.append(await _orchestrator_death(make, settings, kind, image))
    return probes


@contextlib.asynccontextmanager
async def _sandbox(driver: Sandbox, spec: SandboxSpec) -> AsyncIterator[SandboxHandle]:
    handle = await driver.create(spec)
    try:
        yield handle
    finally:
        await driver.destroy(handle)


async def _run(driver: Sandbox, handle: SandboxHandle, script: str, *, egress: bool = False) -> str:
    output: list[str] = []

    async def collect(chunk: str) -> None:
        output.append(chunk)

    await driver.exec(
        handle, ["sh", "-c", script], on_output=collect, timeout=COMMAND_TIMEOUT_S, egress=egress
    )
    return "".join(output)


async def _host_file(driver: Sandbox, handle: SandboxHandle) -> Probe:
    canary = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="codegenapp-canary-") as directory:
        path = _readable_file(Path(directory), canary)
        seen = await _run(driver, handle, f"cat {path} 2>&1; cat /etc/shadow 2>&1 | head -1")
    if canary in seen:
        return Probe("read a host file", False, f"read {path} from inside")
    return Probe("read a host file", True, "host files outside the work area are not there")


async def _host_listener(driver: Sandbox, handle: SandboxHandle) -> Probe:
    connections: list[int] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ports = " ".join(str(p) for p in (port, *HOST_PORTS))
    # bash-free: a connection attempt with whatever the image has.
    script = (
        f"for port in {ports}; do "
        "python3 -c \"import socket,sys; socket.create_connection(('127.0.0.1', "
        "int(sys.argv[1])), timeout=3); print('connected', sys.argv[1])\" $port 2>/dev/null; "
        "done; echo tried"
    )
    async with server:
        seen = await _run(driver, handle, script)
    reached = [line.split()[1] for line in seen.splitlines() if line.startswith("connected ")]
    if connections or reached:
        return Probe("reach the host", False, f"connected to 127.0.0.1:{', '.join(reached)}")
    return Probe("reach the host", True, f"nothing on the host's loopback answers (tried {ports})")


async def _host_secrets(driver: Sandbox, handle: SandboxHandle) -> Probe:
    canary = f"codegenapp-canary-{secrets.token_hex(12)}"
    # A host process with the secret on its command line and in its environment, as a
    # worker holding a database password has.
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import time; time.sleep(120)",
        canary,
        env={**os.environ, "CODEGENAPP_ISOLATION_CANARY": canary},
        stdin=asyncio.subprocess.DEVNULL,
    )
    previous = os.environ.get("CODEGENAPP_ISOLATION_CANARY")
    os.environ["CODEGENAPP_ISOLATION_CANARY"] = canary
    try:
        script = (
            "env; for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do "
            'tr "\\0" " " < "$f" 2>/dev/null; echo; done'
        )
        seen = await _run(driver, handle, script)
    finally:
        _restore_env("CODEGENAPP_ISOLATION_CANARY", previous)
        holder.kill()
        await holder.wait()
    if canary in seen:
        return Probe("read our secrets", False, "found a host secret in env or /proc")
    return Probe("read our secrets", True, "no host secret in its environment or /proc")


async def _processes(driver: Sandbox, handle: SandboxHandle) -> Probe:
    # A bounded fork loop; each child waits, so they all count at once, then the parent
    # kills them (they hold the output pipe).
    script = (
        'python3 -c "import os, time\n'
        "children = []\n"
        f"for _ in range({FORKS}):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    children.append(pid)\n"
        "print('started', len(children), flush=True)\n"
        "for pid in children:\n"
        '    os.kill(pid, 9)" 2>&1 | tail -1'
    )
    seen = await _run(driver, handle, script)
    started = _number_after(seen, "started")
    contained = started is not None and started < FORKS
    return Probe(
        "exceed processes",
        contained,
        f"{started} of {FORKS} background processes started (limit {LIMITS.pids})",
    )


async def _memory(driver: Sandbox, handle: SandboxHandle) -> Probe:
    script = (
        f'python3 -c "b = bytearray({ALLOCATE_MB} * 1024 * 1024); b[::4096] = '
        f"b'x' * len(b[::4096]); print('allocated')\" 2>&1 | tail -1"
    )
    seen = await _run(driver, handle, script)
    contained = "allocated" not in seen
    return Probe(
        "exceed memory",
        contained,
        f"{ALLOCATE_MB} MB {'refused' if contained else 'allocated'} (limit {LIMITS.memory_mb} MB)",
    )


async def _disk(driver: Sandbox, handle: SandboxHandle) -> Probe:
    script = (
        f"head -c {WRITE_MB * 1024 * 1024} /dev/zero > fill 2>/dev/null; "
        'echo "wrote $(wc -c < fill)"; rm -f fill'
    )
    seen = await _run(driver, handle, script)
    wrote = _number_after(seen, "wrote") or 0
    contained = wrote < WRITE_MB * 1024 * 1024
    return Probe(
        "exceed disk",
        contained,
        f"{wrote // (1024 * 1024)} of {WRITE_MB} MB written (limit {LIMITS.disk_mb} MB)",
    )


async def _timeout(driver: Sandbox, handle: SandboxHandle) -> Probe:
    # A grandchild that leaves the session and holds a lock for as long as it lives.
    script = "(setsid flock -x held.lock sleep 600 &) ; sleep 600"
    started = time.monotonic()
    with contextlib.suppress(StepTimedOut):
        await driver.exec(handle, ["sh", "-c", script], on_output=_ignore, timeout=2, egress=False)
    took = time.monotonic() - started
    free = await _run(driver, handle, "flock -n held.lock echo free || echo held")
    contained = "free" in free and took < 30
    return Probe(
        "outlive its timeout",
        contained,
        f"killed after {took:.1f} s with a 2 s timeout; its grandchild "
        f"{'is gone' if 'free' in free else 'still holds its lock'}",
    )


async def _egress(driver: Sandbox, handle: SandboxHandle) -> Probe:
    probe = (
        'python3 -c "import urllib.request,sys\n'
        "try:\n urllib.request.urlopen(sys.argv[1], timeout=20); print('reached')\n"
        "except Exception as e: print('refused', e)\" "
    )
    through = await _run(driver, handle, probe + "https://blocked.invalid/", egress=True)
    direct = await _run(driver, handle, probe + f"{EGRESS_PROXY}/")
    refused_by_name = "403" in through and "reached" not in through
    contained = refused_by_name and "reached" not in direct
    return Probe(
        "reach a disallowed host",
        contained,
        "the proxy refused blocked.invalid by name; without egress there is no proxy"
        if contained
        else f"through the proxy: {through.strip()[-120:]}; without: {direct.strip()[-80:]}",
    )


async def _orchestrator_death(
    make: MakeSandbox, settings: Settings, kind: str, image: str
) -> Probe:
    async with orphaned(settings, kind, image) as left:
        os.kill(left.pid, signal.SIGKILL)
        driver = make()
        contained = await _heartbeat_stops(driver, left.handle)
        with contextlib.suppress(SandboxError):
            await driver.destroy(left.handle)
    return Probe(
        "outlive its worker",
        contained,
        "its processes died with the worker (kill -9)"
        if contained
        else "its service kept running after the worker was killed",
    )


async def _heartbeat_stops(driver: Sandbox, handle: SandboxHandle) -> bool:
    """Whether the heartbeat stops within `ORPHAN_GRACE_S` of the kill: two reads
    `BEAT_GAP_S` apart that agree (a living service beats every 50 ms), or no sandbox left."""
    deadline = time.monotonic() + ORPHAN_GRACE_S
    last = await _heartbeat(driver, handle)
    while last is not None and time.monotonic() < deadline:
        await asyncio.sleep(BEAT_GAP_S)
        beat = await _heartbeat(driver, handle)
        if beat is None or beat == last:
            return True
        last = beat
    return last is None


async def _heartbeat(driver: Sandbox, handle: SandboxHandle) -> str | None:
    try:
        return (await _run(driver, handle, "cat beat")).strip()
    except SandboxError:
        return None  # the sandbox went with its worker


async def _ignore(chunk: str) -> None:
    return None


def _readable_file(directory: Path, content: str) -> Path:
    """A file anyone on this host could read: only isolation can keep it from the sandbox."""
    path = directory / "canary.txt"
    path.write_text(content)
    path.chmod(0o644)
    directory.chmod(0o755)
    return path


def _number_after(text: str, word: str) -> int | None:
    for line in text.splitlines():
        if line.startswith(word + " "):
            value = line.split()[1]
            return int(value) if value.isdigit() else None
    return None


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
