"""The bubblewrap sandbox: every command runs in fresh Linux namespaces (user, pid, mount,
network, ipc, uts, cgroup), with no capabilities, no way to make further user namespaces, a
session of its own, and dies with the worker that started it.

Inside, the work area is `/workspace`, commands start in `/workspace/src` as uid 65534, and the
rest is read-only: the host's `/usr`, a few `/etc` files, `/proc` and a minimal `/dev`. The work
area is the only writable place that outlives a command (and the project's dependency cache at
`/cache`, if it has one); `/tmp` and `/dev/shm` are private, size-capped tmpfs mounts.

Network: only the sandbox's own loopback. A service is reached from the host through a relay
(relay.py) on a unix socket in the work area, bridged to a host TCP port by `endpoint`. A
command run with `egress` also sees `/run/codegenapp/egress`, where the sandbox's egress proxy
(tinyproxy, on the host) listens on a unix socket; a relay inside makes it
`http://127.0.0.1:3128`. Services and other commands never see it.

Limits: as root (the usual case for a CI worker), each sandbox gets its own cgroup (pids,
memory, CPU, for all its processes together; cgroups.py) and its work area is a file system
of `disk_mb` (quota.py). Without root, the limits fall back to rlimits per process (address
space, processes of the user), and the disk is not limited; `limitations()` says which.
"""

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from codegenapp.drivers.sandbox import (
    CACHE_DIR,
    SOURCE_DIR,
    ExecResult,
    OutputSink,
    ResourceLimits,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
    TreeWriter,
    cgroups,
    overlay,
    quota,
)
from codegenapp.drivers.sandbox.bridge import forwarder, open_socket_in
from codegenapp.drivers.sandbox.cgroups import CgroupTree
from codegenapp.drivers.sandbox.host_egress import EGRESS_SOCKET, HostEgress, egress_environment
from codegenapp.drivers.sandbox.processes import Command, limits_argv, tethered
from codegenapp.drivers.sandbox.state import SandboxState
from codegenapp.drivers.sandbox.supervisor import (
    BASE_ENV,
    HOME_DIR,
    Supervisor,
    check_argv,
    check_env,
    check_port,
    sandbox_env,
)
from codegenapp.drivers.state_files import locked
from codegenapp.errors import SandboxError, SandboxUnavailable

WORKSPACE = "/workspace"
SOCKET_DIR = ".sandbox"
RUN_INSIDE = "/run/codegenapp"
RELAY_INSIDE = f"{RUN_INSIDE}/relay.py"
EGRESS_INSIDE = f"{RUN_INSIDE}/egress"
EGRESS_PORT_INSIDE = 3128
RELAY_SOURCE = Path(__file__).with_name("relay.py")
CACHE_VIEW = ".cache"  # in the work area: the overlay showing the project's cache
MAKING_WAIT_S = 60.0  # at shutdown, how long the reap waits for sandboxes being made
PRLIMIT_INSIDE = "/usr/bin/prlimit"
PYTHON_INSIDE = "/usr/bin/python3"
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


@dataclass(frozen=True, slots=True)
class Mounts:
    """The host directories one command sees besides the read-only system."""

    work_area: Path
    cache: Path | None = None
    egress: Path | None = None
    tools: tuple[Path, ...] = ()


def bwrap_argv(
    bwrap: str,
    mounts: Mounts,
    limits: ResourceLimits,
    command: Sequence[str],
    *,
    rlimit_memory: bool,
) -> list[str]:
    """The bwrap command line that runs `command` confined to `mounts` under `limits`. Its
    environment is not on it (any local user can read a command line): bwrap reads it from its
    standard input, `env_arguments(env)`, with `--args 0`."""
    argv = [
        bwrap,
        *("--die-with-parent", "--new-session", "--unshare-all", "--unshare-user"),
        *("--disable-userns", "--uid", UID_INSIDE, "--gid", UID_INSIDE, "--cap-drop", "ALL"),
        *_mount_options(mounts, tmpfs_bytes=limits.memory_mb * 1024 * 1024),
        *("--chdir", f"{WORKSPACE}/{SOURCE_DIR}"),
        *("--args", "0"),
    ]
    limiter = limits_argv(PRLIMIT_INSIDE, limits, count_processes=True, address_space=rlimit_memory)
    return [*argv, "--", *limiter, *command]


def env_arguments(env: Mapping[str, str]) -> bytes:
    """bwrap options, NUL-separated as `--args` reads them, that give the command exactly
    `env`: `--clearenv` first, since bwrap applies them in order."""
    parts = ["--clearenv"]
    for name, value in env.items():
        parts += ["--setenv", name, value]
    return b"".join(part.encode("utf-8") + b"\0" for part in parts)


def _mount_options(mounts: Mounts, *, tmpfs_bytes: int) -> list[str]:
    # Memory-backed mounts are capped: without a memory cgroup, what is written there is host
    # memory that no rlimit counts. The root, /dev and /etc are read-only once all is in place.
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
    for tool in mounts.tools:
        argv += ["--ro-bind", str(tool), str(tool)]
    argv += ["--ro-bind", str(RELAY_SOURCE), RELAY_INSIDE]
    if mounts.egress is not None:
        argv += ["--bind", str(mounts.egress), EGRESS_INSIDE]
    if mounts.cache is not None:
        argv += ["--bind", str(mounts.cache), CACHE_DIR]
    argv += ["--bind", str(mounts.work_area), WORKSPACE]
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
        argv = bwrap_argv(
            launcher, Mounts(work_area), ResourceLimits(), ["/usr/bin/true"], rlimit_memory=True
        )
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

    def __init__(
        self,
        state_dir: Path,
        work_root: Path,
        *,
        cache_root: Path | None = None,
        bwrap: str | None = None,
        cgroup_tree: CgroupTree | bool | None = True,
        disk_quota: bool | None = None,
        tools: Sequence[Path] = (),
        cache_max_mb: int = 4096,
    ) -> None:
        """`cgroup_tree`: True to find one (None if this process cannot make groups), or the
        tree to use, or None for none; `disk_quota`: None to use one when possible; `tools`:
        host directories every command sees read-only at the same path (a toolchain outside
        /usr, say)."""
        self._bwrap = bwrap or shutil.which("bwrap")
        self._supervisor = Supervisor(state_dir, work_root, driver=self.name)
        self._cache_root = cache_root or work_root.parent / "caches"
        self._cgroups = CgroupTree.detect() if cgroup_tree is True else cgroup_tree or None
        self._quota = quota.available() if disk_quota is None else disk_quota
        self._overlay = overlay.available()
        self._cache_bytes = cache_max_mb * 1024 * 1024
        self._tools = tuple(tools)
        self._egress = HostEgress()
        self._relays: dict[tuple[str, int], asyncio.Server] = {}
        # The pipe ends that keep each sandbox's watchdog waiting (cgroups.watchdog_argv).
        self._watchdogs: dict[str, int] = {}
        # Shutdown: `reap(mine=True)` waits for sandboxes being made, and none is made after
        # (one still being made would mount its disk or cache after the reap looked).
        self._closing = False
        self._making = 0
        self._made = asyncio.Condition()

    def limitations(self) -> list[str]:
        """What this instance cannot enforce here, in words (empty: everything)."""
        missing = []
        if self._cgroups is None:
            missing.append(
                "no cgroup (needs root or a delegated cgroup): memory is limited per process "
                "(address space), processes per user, and CPU time is not limited"
            )
        if not self._quota:
            missing.append("no disk quota (needs root, mkfs.ext4 and loop devices)")
        if not self._overlay:
            missing.append(
                "no overlay (needs root): a project's dependency cache is shared read-write, "
                "so a pull request can change what later builds find in it"
            )
        return missing

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        self._launcher()
        if self._closing:
            raise SandboxUnavailable("the server is shutting down: no new sandbox")
        self._making += 1
        try:
            handle = await self._make(spec)
            if self._closing:  # the reap waited for this one: undo it, as the reap would have
                await self.destroy(handle)
                raise SandboxUnavailable("the server is shutting down: no new sandbox")
            return handle
        finally:
            self._making -= 1
            async with self._made:
                self._made.notify_all()

    def _refuse_when_closing(self) -> None:
        # After the shutdown's reap, nothing may start: a proxy or a process started then
        # would have no one left to stop it.
        if self._closing:
            raise SandboxUnavailable("the server is shutting down: nothing new runs")

    async def _make(self, spec: SandboxSpec) -> SandboxHandle:
        handle, state = self._supervisor.plan(spec)
        self._supervisor.save(handle, state)  # first: destroy finds what a crash left
        try:
            state = await self._provision(handle, state, spec)
        except BaseException:
            await asyncio.shield(self.destroy(handle))
            raise
        return handle

    async def _provision(
        self, handle: SandboxHandle, state: SandboxState, spec: SandboxSpec
    ) -> SandboxState:
        work_area = Path(state.work_area)
        if self._quota:
            image = work_area.with_name(f"{handle.id}.img")
            state = replace(state, quota_image=str(image))
            self._supervisor.save(handle, state)
            await quota.mount_new(image, work_area, size_mb=spec.limits.disk_mb)
        if self._cgroups is not None:
            groups = await asyncio.to_thread(self._cgroups.create, handle.id, spec.limits)
            state = replace(state, cgroups=tuple(str(group) for group in groups))
            self._watchdogs[handle.id] = await _watchdog(groups)
        if spec.cache_key:
            state = await self._mount_cache(handle, state, spec)
        self._supervisor.save(handle, state)
        self._supervisor.make_work_area(state)
        return state

    async def _mount_cache(
        self, handle: SandboxHandle, state: SandboxState, spec: SandboxSpec
    ) -> SandboxState:
        """Show the project's cache at /cache: through an overlay where this process can mount
        one (writes stay in the sandbox unless it writes back), else the directory itself."""
        shared = self._cache_root / spec.cache_key
        shared.mkdir(mode=0o700, parents=True, exist_ok=True)
        state = replace(state, cache_source=str(shared), cache_writeback=spec.cache_writeback)
        if not self._overlay:
            return replace(state, cache_dir=str(shared))
        self._supervisor.save(handle, state)  # destroy must find the mount to undo
        view = await overlay.mount(shared, Path(state.work_area) / CACHE_VIEW)
        return replace(state, cache_dir=str(view))

    async def put_tree(self, handle: SandboxHandle, write: TreeWriter) -> None:
        await self._supervisor.put_tree(handle, write)

    async def exec(
        self,
        handle: SandboxHandle,
        argv: Sequence[str],
        *,
        on_output: OutputSink,
        timeout: float,
        env: Mapping[str, str] | None = None,
        egress: bool = False,
    ) -> ExecResult:
        check_argv(tuple(argv))
        check_env(env or {})
        self._refuse_when_closing()
        state = self._supervisor.load(handle)
        if not (egress and state.allowed_hosts):
            command = self._command(state, argv, env=env, port=None)
            return await self._supervisor.run(handle, command, on_output=on_output, timeout=timeout)
        async with self._egress.opened(
            self._supervisor, handle, state, on_output=on_output
        ) as egress_dir:
            relay = ["egress", str(EGRESS_PORT_INSIDE), f"{EGRESS_INSIDE}/{EGRESS_SOCKET}"]
            relayed = [PYTHON_INSIDE, "-I", "-S", RELAY_INSIDE, *relay, "--", *argv]
            proxy = egress_environment(f"http://127.0.0.1:{EGRESS_PORT_INSIDE}")
            command = self._command(
                state, relayed, env={**proxy, **(env or {})}, port=None, egress_dir=egress_dir
            )
            return await self._supervisor.run(handle, command, on_output=on_output, timeout=timeout)

    async def start_service(
        self,
        handle: SandboxHandle,
        argv: Sequence[str],
        *,
        port: int,
        on_output: OutputSink,
        env: Mapping[str, str] | None = None,
    ) -> ServiceHandle:
        check_argv(tuple(argv))
        self._refuse_when_closing()
        check_port(port)
        check_env(env or {})
        state = self._supervisor.load(handle)
        socket_path = f"{WORKSPACE}/{SOCKET_DIR}/port-{port}.sock"
        relayed = [PYTHON_INSIDE, "-I", "-S", RELAY_INSIDE, "service", socket_path, str(port)]
        command = self._command(state, [*relayed, "--", *argv], env=env, port=port)
        return await self._supervisor.start(
            handle, command, port=port, host_port=port, on_output=on_output
        )

    async def service_exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        return await self._supervisor.exit_code(handle, service)

    async def endpoint(self, handle: SandboxHandle, port: int) -> str:
        """A host listener on 127.0.0.1 bridged to the service's relay, started on first use
        in this process and kept until `destroy`."""
        check_port(port)
        state = self._supervisor.load(handle)
        if self._supervisor.store.service(handle.id, port) is None:
            raise SandboxError(f"no service was started on port {port} in {handle.id!r}")
        key = (handle.id, port)
        if key not in self._relays:
            sockets = Path(state.work_area) / SOCKET_DIR
            connect = partial(open_socket_in, sockets, f"port-{port}.sock")
            server = await asyncio.start_server(forwarder(connect), "127.0.0.1", 0)
            if key in self._relays:  # another call won the race while we started ours
                server.close()
            else:
                self._relays[key] = server
        host_port: int = self._relays[key].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{host_port}"

    async def reap(self, *, mine: bool = False) -> list[str]:
        if mine:  # shutting down: let sandboxes being made finish first, then make no more
            self._closing = True
            async with self._made:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._made.wait_for(lambda: self._making == 0), MAKING_WAIT_S
                    )
        removed = []
        for handle in self._supervisor.abandoned(mine=mine):
            await self.destroy(handle)
            removed.append(handle.id)
        return removed

    async def destroy(self, handle: SandboxHandle) -> None:
        for key in [key for key in self._relays if key[0] == handle.id]:
            # Not awaiting wait_closed: open bridges end when the service dies, just below.
            self._relays.pop(key).close()
        self._egress.close(handle)
        await self._supervisor.kill_all(handle)
        if (watchdog := self._watchdogs.pop(handle.id, None)) is not None:
            os.close(watchdog)  # it kills what is left in the cgroup, and ends
        state = self._supervisor.store.find(handle.id)
        if state is not None:
            await self._tear_down(state)
        self._supervisor.forget(handle)

    async def _tear_down(self, state: SandboxState) -> None:
        """Every step runs even when one before it failed; the first failure is raised at
        the end, and the state kept, so that another `destroy` can finish the job."""
        groups = tuple(Path(group) for group in state.cgroups)
        steps: list[Callable[[], Awaitable[None]]] = [
            partial(asyncio.to_thread, cgroups.kill_all, groups),
            partial(asyncio.to_thread, cgroups.remove, groups),
            partial(self._release_cache, state),
        ]
        if state.quota_image:
            steps.append(partial(quota.release, Path(state.quota_image), Path(state.work_area)))
        else:
            steps.append(partial(self._supervisor.remove_work_area, state))
        failures: list[Exception] = []
        for step in steps:
            try:
                await step()
            except (SandboxError, OSError) as exc:
                failures.append(exc)
        if failures:
            raise SandboxError(f"the sandbox was not fully removed: {failures[0]}") from failures[0]

    async def _release_cache(self, state: SandboxState) -> None:
        if not state.cache_source or state.cache_dir == state.cache_source:
            return
        view = Path(state.work_area) / CACHE_VIEW
        await overlay.unmount(view)
        if state.cache_writeback and view.exists():
            async with locked(Path(f"{state.cache_source}.lock"), error=SandboxError):
                await asyncio.to_thread(
                    overlay.write_back, view, Path(state.cache_source), max_bytes=self._cache_bytes
                )

    def _command(
        self,
        state: SandboxState,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None,
        port: int | None,
        egress_dir: Path | None = None,
    ) -> Command:
        source = f"{WORKSPACE}/{SOURCE_DIR}"
        inside_env = sandbox_env(
            state,
            home=f"{WORKSPACE}/{HOME_DIR}",
            source=source,
            cache=CACHE_DIR if state.cache_dir else None,
            extra=env,
            port=port,
        )
        work_area = Path(state.work_area)
        mounts = Mounts(
            work_area=work_area,
            cache=Path(state.cache_dir) if state.cache_dir else None,
            egress=egress_dir,
            tools=self._tools,
        )
        groups = tuple(Path(group) for group in state.cgroups)
        bwrap = bwrap_argv(self._launcher(), mounts, state.limits, argv, rlimit_memory=not groups)
        launched = tethered(bwrap, join=cgroups.procs_files(groups))
        return Command(argv=tuple(launched), env={}, cwd=work_area, stdin=env_arguments(inside_env))

    def _launcher(self) -> str:
        if self._bwrap is None or not os.access(self._bwrap, os.X_OK):
            raise SandboxUnavailable("bubblewrap is not installed (apt-get install -y bubblewrap)")
        return self._bwrap


async def _watchdog(groups: tuple[Path, ...]) -> int:
    """Start the sandbox's watchdog; return the pipe end that keeps it waiting (held by this
    process only: it is close-on-exec, so no command inherits it)."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        await asyncio.create_subprocess_exec(
            *cgroups.watchdog_argv(groups),
            stdin=read_end,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # a signal to the worker's group must not end it first
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return write_end
