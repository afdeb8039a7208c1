"""The process sandbox: NO isolation. Commands run as plain host processes, for machines with
neither bubblewrap nor Docker; every command and service says so in its output.

What it still does: a cleared environment (no host secrets), the work area as current and home
directory, memory / file size / open file limits (prlimit), and killing whole process groups.
What it cannot do: keep code from reading or writing anything the worker's user can, or from
reaching the network (egress is not filtered: no proxy is set, nothing is in the way). It does
not limit the process count (RLIMIT_NPROC would count every process of the worker's user, and
the kernel ignores it for root), CPU time or disk use.
"""

import shutil
import socket
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from codegenapp.drivers.sandbox import (
    SOURCE_DIR,
    ExecResult,
    OutputSink,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
    TreeWriter,
)
from codegenapp.drivers.sandbox.processes import Command, limits_argv, tethered
from codegenapp.drivers.sandbox.state import SandboxState
from codegenapp.drivers.sandbox.supervisor import (
    HOME_DIR,
    Supervisor,
    check_argv,
    check_env,
    check_port,
    sandbox_env,
)
from codegenapp.errors import SandboxError, SandboxUnavailable

NOT_ISOLATED = (
    "[sandbox] NOT ISOLATED: the process driver runs this as a plain host process "
    "(no file system, network or user isolation)\n"
)


class ProcessSandbox:
    """Plain host processes; see the module docstring for what that does not protect."""

    name = "process"
    isolated = False

    def __init__(
        self,
        state_dir: Path,
        work_root: Path,
        *,
        cache_root: Path | None = None,
        prlimit: str | None = None,
    ) -> None:
        self._prlimit = prlimit or shutil.which("prlimit")
        self._cache_root = cache_root or work_root.parent / "caches"
        self._supervisor = Supervisor(state_dir, work_root, driver=self.name)

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        self._limiter()
        handle, state = self._supervisor.plan(spec)
        if spec.cache_key:  # shared read-write: nothing here is isolated anyway
            cache = self._cache_root / spec.cache_key
            cache.mkdir(mode=0o700, parents=True, exist_ok=True)
            state = replace(state, cache_dir=str(cache), cache_source=str(cache))
        self._supervisor.save(handle, state)  # first: destroy finds what a crash left
        self._supervisor.make_work_area(state)
        return handle

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
        command = self._command(self._supervisor.load(handle), argv, env=env, port=None)
        await on_output(NOT_ISOLATED)
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
        """Start `argv` with `$PORT` set to a free host port (several services asking for the
        same port may run at once on one host); `endpoint(handle, port)` finds it."""
        check_argv(tuple(argv))
        check_port(port)
        state = self._supervisor.load(handle)
        host_port = _free_port()
        command = self._command(state, argv, env=env, port=host_port)
        await on_output(NOT_ISOLATED)
        return await self._supervisor.start(
            handle, command, port=port, host_port=host_port, on_output=on_output
        )

    async def service_exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        return await self._supervisor.exit_code(handle, service)

    async def endpoint(self, handle: SandboxHandle, port: int) -> str:
        check_port(port)
        self._supervisor.load(handle)
        record = self._supervisor.store.service(handle.id, port)
        if record is None:
            raise SandboxError(f"no service was started on port {port} in {handle.id!r}")
        return f"http://127.0.0.1:{record.host_port}"

    async def reap(self, *, mine: bool = False) -> list[str]:
        removed = []
        for handle in self._supervisor.abandoned(mine=mine):
            await self.destroy(handle)
            removed.append(handle.id)
        return removed

    async def destroy(self, handle: SandboxHandle) -> None:
        await self._supervisor.kill_all(handle)
        if (state := self._supervisor.store.find(handle.id)) is not None:
            await self._supervisor.remove_work_area(state)
        self._supervisor.forget(handle)

    def _command(
        self,
        state: SandboxState,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None,
        port: int | None,
    ) -> Command:
        check_env(env or {})
        work_area = Path(state.work_area)
        env = sandbox_env(
            state,
            home=str(work_area / HOME_DIR),
            source=str(work_area / SOURCE_DIR),
            cache=state.cache_dir or None,
            extra=env,
            port=port,
        )
        limits = limits_argv(self._limiter(), state.limits, count_processes=False)
        launched = tethered([*limits, *argv])
        return Command(argv=tuple(launched), env=env, cwd=work_area / SOURCE_DIR)

    def _limiter(self) -> str:
        if self._prlimit is None:
            raise SandboxUnavailable("prlimit (util-linux) is needed to apply resource limits")
        return self._prlimit


def _free_port() -> int:
    # The kernel picks a port nobody holds; a race with another binder is possible but rare,
    # and the service then fails to listen, which the health check reports.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
