"""The bubblewrap sandbox: every command runs in fresh Linux namespaces (user, pid, mount,
network, ipc, uts, cgroup), with no capabilities and no way to make further user namespaces.

Inside, the work area is `/workspace`, commands start in `/workspace/src` as uid 65534, and
the rest is read-only: the host's `/usr`, a few `/etc` files, `/proc` and a minimal `/dev`.
The work area is the only writable place that outlives a command; `/tmp` and `/dev/shm` are
private, size-capped tmpfs mounts that vanish with it. Only loopback exists. A service listens
on its own loopback; the relay (relay.py) started with it exposes it on a unix socket in the
work area, and `endpoint` bridges a host TCP port to that socket.

Limits (prlimit, inside): memory as address space (RLIMIT_AS, also the size of each tmpfs),
file size (RLIMIT_FSIZE), open files (RLIMIT_NOFILE) and processes (RLIMIT_NPROC). The kernel
never applies RLIMIT_NPROC to a process whose host uid is root, and uid 65534 inside *is* the
invoking user outside: when the worker runs as root, the process count is not limited (only a
pids cgroup could do that).
"""

import asyncio
import errno
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from codegenapp.drivers.sandbox import (
    SOURCE_DIR,
    ExecResult,
    OutputSink,
    ResourceLimits,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
)
from codegenapp.drivers.sandbox.processes import Command, limits_argv
from codegenapp.drivers.sandbox.relay import splice
from codegenapp.drivers.sandbox.state import SandboxState
from codegenapp.drivers.sandbox.supervisor import (
    BASE_ENV,
    HOME_DIR,
    Supervisor,
    check_argv,
    check_port,
    sandbox_env,
)
from codegenapp.errors import SandboxError, SandboxUnavailable

WORKSPACE = "/workspace"
SOCKET_DIR = ".sandbox"
RELAY_INSIDE = "/run/codegenapp/relay.py"
RELAY_SOURCE = Path(__file__).with_name("relay.py")
PRLIMIT_INSIDE = "/usr/bin/prlimit"
UID_INSIDE = "65534"
PRIVATE_TMPFS = ("/tmp", "/dev/shm")  # noqa: S108 - fresh, empty mounts inside the sandbox

# What programs read from /etc; nothing else of the host's /etc is visible. Whatever is bound
# here is readable inside whatever its mode: uid 65534 inside *is* the invoking user outside.
ETC_FILES = (
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/ld.so.cache",
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
    "/etc/alternatives",
    "/etc/localtime",
)


def bwrap_argv(
    bwrap: str,
    work_area: Path,
    limits: ResourceLimits,
    command: Sequence[str],
) -> list[str]:
    """The bwrap command line that runs `command` confined to `work_area` under `limits`. Its
    environment is not on it (any local user can read a command line): bwrap reads it from its
    standard input, `env_arguments(env)`, with `--args 0`."""
    argv = [
        bwrap,
        *("--die-with-parent", "--new-session", "--unshare-all", "--unshare-user"),
        *("--disable-userns", "--uid", UID_INSIDE, "--gid", UID_INSIDE, "--cap-drop", "ALL"),
        *_mounts(work_area, tmpfs_bytes=limits.memory_mb * 1024 * 1024),
        *("--chdir", f"{WORKSPACE}/{SOURCE_DIR}"),
        *("--args", "0"),
    ]
    limiter = limits_argv(PRLIMIT_INSIDE, limits, count_processes=True)
    return [*argv, "--", *limiter, *command]


def env_arguments(env: Mapping[str, str]) -> bytes:
    """bwrap options, NUL-separated as `--args` reads them, that give the command exactly
    `env`: `--clearenv` first, since bwrap applies them in order."""
    parts = ["--clearenv"]
    for name, value in env.items():
        parts += ["--setenv", name, value]
    return b"".join(part.encode("utf-8") + b"\0" for part in parts)


def _mounts(work_area: Path, *, tmpfs_bytes: int) -> list[str]:
    # Memory-backed mounts are capped: what is written there is host memory that RLIMIT_AS
    # does not count. The root, /dev and /etc are read-only once everything is in place.
    argv = [
        *("--ro-bind", "/usr", "/usr"),
        *("--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"),
        *("--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64"),
        *("--proc", "/proc", "--dev", "/dev"),
    ]
    for path in PRIVATE_TMPFS:
        argv += ["--size", str(tmpfs_bytes), "--tmpfs", path]
    for path in ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    argv += ["--ro-bind", str(RELAY_SOURCE), RELAY_INSIDE]
    argv += ["--bind", str(work_area), WORKSPACE]
    return [*argv, "--remount-ro", "/dev", "--remount-ro", "/"]


def bubblewrap_available(bwrap: str | None = None) -> bool:
    """True if bwrap runs a trivial command here, with the very flags and limits the driver
    uses. Blocking (about 20 ms): call it at start-up, or through `asyncio.to_thread`."""
    launcher = bwrap or shutil.which("bwrap")
    if launcher is None:
        return False
    with tempfile.TemporaryDirectory(prefix="codegenapp-bwrap-check-") as scratch:
        work_area = Path(scratch)
        (work_area / SOURCE_DIR).mkdir()
        argv = bwrap_argv(launcher, work_area, ResourceLimits(), ["/usr/bin/true"])
        try:
            result = subprocess.run(
                argv,
                input=env_arguments(BASE_ENV),
                env={},
                capture_output=True,
                timeout=30,
                check=False,
                cwd=scratch,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return result.returncode == 0


class BubblewrapSandbox:
    """Sandboxes isolated with bubblewrap; see the module docstring for what that means."""

    name = "bubblewrap"
    isolated = True

    def __init__(self, state_dir: Path, *, bwrap: str | None = None) -> None:
        self._bwrap = bwrap or shutil.which("bwrap")
        self._supervisor = Supervisor(state_dir, driver=self.name)
        self._relays: dict[tuple[str, int], asyncio.Server] = {}

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        self._launcher()
        return await self._supervisor.create(spec)

    async def exec(
        self,
        handle: SandboxHandle,
        argv: Sequence[str],
        *,
        on_output: OutputSink,
        timeout: float,
    ) -> ExecResult:
        check_argv(tuple(argv))
        command = self._command(self._supervisor.load(handle), argv, port=None)
        return await self._supervisor.run(handle, command, on_output=on_output, timeout=timeout)

    async def start_service(
        self, handle: SandboxHandle, argv: Sequence[str], *, port: int, on_output: OutputSink
    ) -> ServiceHandle:
        check_argv(tuple(argv))
        check_port(port)
        state = self._supervisor.load(handle)
        socket_path = f"{WORKSPACE}/{SOCKET_DIR}/port-{port}.sock"
        relayed = ["/usr/bin/python3", "-I", RELAY_INSIDE, socket_path, str(port), "--", *argv]
        command = self._command(state, relayed, port=port)
        return await self._supervisor.start(
            handle, command, port=port, host_port=port, on_output=on_output
        )

    async def service_exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        return await self._supervisor.exit_code(handle, service)

    async def endpoint(self, handle: SandboxHandle, port: int) -> str:
        """A host listener on 127.0.0.1 bridged to the service's relay, started on first use
        in this process and kept until `destroy`."""
        check_port(port)
        self._supervisor.load(handle)
        if self._supervisor.store.service(handle.id, port) is None:
            raise SandboxError(f"no service was started on port {port} in {handle.id!r}")
        key = (handle.id, port)
        if key not in self._relays:
            bridge = partial(_bridge, Path(handle.work_area), port)
            server = await asyncio.start_server(bridge, "127.0.0.1", 0)
            if key in self._relays:  # another call won the race while we started ours
                server.close()
            else:
                self._relays[key] = server
        host_port: int = self._relays[key].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{host_port}"

    async def destroy(self, handle: SandboxHandle) -> None:
        for key in [key for key in self._relays if key[0] == handle.id]:
            # Not awaiting wait_closed: open bridges end when the service dies, just below.
            self._relays.pop(key).close()
        await self._supervisor.destroy(handle)

    def _command(self, state: SandboxState, argv: Sequence[str], *, port: int | None) -> Command:
        env = sandbox_env(state, home=f"{WORKSPACE}/{HOME_DIR}", port=port)
        work_area = Path(state.work_area)
        bwrap = bwrap_argv(self._launcher(), work_area, state.limits, argv)
        return Command(argv=tuple(bwrap), env={}, cwd=work_area, stdin=env_arguments(env))

    def _launcher(self) -> str:
        if self._bwrap is None or not os.access(self._bwrap, os.X_OK):
            raise SandboxUnavailable("bubblewrap is not installed (apt-get install -y bubblewrap)")
        return self._bwrap


async def _bridge(
    work_area: Path, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        sock = await _connect_relay(work_area, port)
        peer_reader, peer_writer = await asyncio.open_unix_connection(sock=sock)
    except OSError:
        writer.close()  # no relay (yet): the client sees the connection close
        return
    await splice(reader, writer, peer_reader, peer_writer)


async def _connect_relay(work_area: Path, port: int) -> socket.socket:
    """Connect to the relay's socket through an O_PATH descriptor, so that a symlink planted
    in the work area can never send host traffic to a host socket (Docker's, say)."""
    target = _open_relay_socket(work_area, port)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, f"/proc/self/fd/{target}")
    except OSError:
        sock.close()
        raise
    finally:
        os.close(target)
    return sock


def _open_relay_socket(work_area: Path, port: int) -> int:
    """An O_PATH descriptor of `.sandbox/port-<port>.sock`, opened without following links."""
    no_follow = os.O_PATH | os.O_NOFOLLOW
    root = os.open(work_area, os.O_PATH | os.O_DIRECTORY)
    try:
        directory = os.open(SOCKET_DIR, no_follow | os.O_DIRECTORY, dir_fd=root)
    finally:
        os.close(root)
    try:
        target = os.open(f"port-{port}.sock", no_follow, dir_fd=directory)
    finally:
        os.close(directory)
    if not stat.S_ISSOCK(os.fstat(target).st_mode):
        os.close(target)
        raise OSError(errno.ECONNREFUSED, "the relay socket is not a socket")
    return target
