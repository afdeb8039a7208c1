"""The sandbox life cycle both drivers share: create, run, serve, tear down. A driver only says
how a command is launched (confined or not) and how the host reaches a service."""

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from codegenapp.drivers.sandbox import (
    SOURCE_DIR,
    ExecResult,
    OutputSink,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
)
from codegenapp.drivers.sandbox.processes import (
    EXIT_CODE_LOST,
    Child,
    Command,
    abandon,
    exit_status,
    is_alive,
    kill_recorded,
    kill_tree,
    record_of,
    spawn,
    supervise,
)
from codegenapp.drivers.sandbox.state import SandboxState, ServiceRecord, StateStore
from codegenapp.errors import InvalidInput, SandboxError, StepTimedOut

HOME_DIR = "home"
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "CI": "true", "LANG": "C.UTF-8"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def sandbox_env(state: SandboxState, *, home: str, port: int | None) -> dict[str, str]:
    """The whole environment inside: ours, then the spec's, then the service's PORT."""
    env = {**BASE_ENV, "HOME": home, **state.env}
    if port is not None:
        env["PORT"] = str(port)
    return env


def check_argv(argv: tuple[str, ...]) -> None:
    if not argv or not argv[0]:
        raise InvalidInput("argv", "name a command to run, e.g. ['make', 'test']")


def check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise InvalidInput("port", f"{port} is not a TCP port; use 1-65535")


@dataclass(slots=True)
class _Running:
    """A service this process started: its live process and the task streaming its output."""

    record: ServiceRecord
    child: Child
    watcher: asyncio.Task[None]


class Supervisor:
    """Starts a driver's commands as host processes, records them under `state_dir` so that
    any process holding a handle can stop them, and tears sandboxes down."""

    def __init__(self, state_dir: Path, *, driver: str) -> None:
        self.store = StateStore(state_dir)
        self.driver = driver
        self._services: dict[tuple[str, int], _Running] = {}

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        """Make the work area (with `home/` and `src/`) and store the spec. Idempotent: the
        same name and work area give the same handle."""
        work_area = self._check_spec(spec)
        for directory in (work_area, work_area / HOME_DIR, work_area / SOURCE_DIR):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", spec.name.lower()).strip("-")[:40] or "sandbox"
        digest = hashlib.sha256(str(work_area).encode()).hexdigest()[:16]
        handle = SandboxHandle(driver=self.driver, id=f"{slug}-{digest}", work_area=str(work_area))
        state = SandboxState(
            driver=self.driver,
            name=spec.name,
            work_area=str(work_area),
            env=dict(spec.env),
            limits=spec.limits,
        )
        self.store.save(handle.id, state)
        return handle

    def load(self, handle: SandboxHandle) -> SandboxState:
        """The stored spec. Raise `SandboxError` if the sandbox does not exist (never created,
        or destroyed) or the handle does not match what was stored."""
        self._check_driver(handle)
        state = self.store.find(handle.id)
        if state is None:
            raise SandboxError(f"no sandbox {handle.id!r} (never created, or destroyed)")
        if state.work_area != handle.work_area:
            raise SandboxError(f"handle {handle.id!r} names another work area than its sandbox")
        return state

    async def run(
        self, handle: SandboxHandle, command: Command, *, on_output: OutputSink, timeout: float
    ) -> ExecResult:
        """Run `command` to its end; on timeout kill its tree and raise `StepTimedOut`."""
        started = time.monotonic()
        _make_source_dir(Path(handle.work_area))
        child = await spawn(command)
        await self._record(child, lambda: self.store.add_process(handle.id, record_of(child.pid)))
        try:
            code = await supervise(child, on_output, timeout=timeout)
        except TimeoutError:
            raise StepTimedOut(f"the command outlived its {timeout:g} s timeout; killed") from None
        finally:
            self.store.remove_process(handle.id, child.pid)
        return ExecResult(exit_code=code, duration_s=time.monotonic() - started)

    async def start(
        self,
        handle: SandboxHandle,
        command: Command,
        *,
        port: int,
        host_port: int,
        on_output: OutputSink,
    ) -> ServiceHandle:
        """Start `command` as the service on `port`, replacing one already there (a retried
        deploy step must not fail because its first attempt left a service behind)."""
        await self.stop(handle.id, port)
        child = await spawn(command)
        record = ServiceRecord(port=port, host_port=host_port, process=record_of(child.pid))
        await self._record(child, lambda: self.store.save_service(handle.id, record))
        watcher = asyncio.create_task(self._watch(handle.id, record, child, on_output))
        self._services[(handle.id, port)] = _Running(record, child, watcher)
        return ServiceHandle(sandbox_id=handle.id, port=port, pid=child.pid)

    async def exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        """The service's exit code, None while it runs, `EXIT_CODE_LOST` if it ended unseen
        (its supervising process went away first)."""
        running = self._services.get((handle.id, service.port))
        if running is not None and running.child.pid == service.pid:
            if not _has_exited(running.child.pid) and is_alive(running.record.process):
                return None
            await asyncio.wait({running.watcher})  # reaped, output drained, code recorded
            return exit_status(running.child.returncode)
        record = self.store.service(handle.id, service.port)
        if record is None or record.process.pid != service.pid:
            return EXIT_CODE_LOST
        if record.exit_code is not None:
            return record.exit_code
        return None if is_alive(record.process) else EXIT_CODE_LOST

    async def stop(self, sandbox_id: str, port: int) -> None:
        """Kill the service on `port`, whichever process started it. Idempotent."""
        running = self._services.pop((sandbox_id, port), None)
        if running is not None:
            await kill_tree(running.child.pid)
            await asyncio.wait({running.watcher})
        record = self.store.service(sandbox_id, port)
        if record is not None:
            await kill_recorded(record.process)

    async def destroy(self, handle: SandboxHandle) -> None:
        """Kill every recorded process, remove the work area and the state. Idempotent, and
        fine for a sandbox whose `create` never finished."""
        self._check_driver(handle)
        state = self.store.find(handle.id)
        if state is not None and state.work_area != handle.work_area:
            raise SandboxError(f"handle {handle.id!r} names another work area than its sandbox")
        for sandbox_id, port in [key for key in self._services if key[0] == handle.id]:
            await self.stop(sandbox_id, port)
        for record in self.store.processes(handle.id):
            await kill_recorded(record)
        work_area = Path(handle.work_area)
        self._check_apart(work_area)
        await asyncio.to_thread(_remove_tree, work_area)
        self.store.remove(handle.id)

    async def _record(self, child: Child, write: Callable[[], None]) -> None:
        """Persist what `child` is, or kill it: an unrecorded process could outlive `destroy`."""
        try:
            write()
        except BaseException:
            await abandon(child)
            raise

    async def _watch(
        self,
        sandbox_id: str,
        record: ServiceRecord,
        child: Child,
        on_output: OutputSink,
    ) -> None:
        try:
            await supervise(child, on_output, timeout=None)
        finally:
            # supervise waited for its exit whatever happened (a failing sink kills it).
            current = self.store.service(sandbox_id, record.port)
            if child.returncode is not None and current is not None and current == record:
                code = exit_status(child.returncode)
                with contextlib.suppress(SandboxError):  # destroyed meanwhile
                    self.store.save_service(sandbox_id, replace(record, exit_code=code))

    def _check_driver(self, handle: SandboxHandle) -> None:
        if handle.driver != self.driver:
            raise SandboxError(f"handle {handle.id!r} belongs to driver {handle.driver!r}")

    def _check_spec(self, spec: SandboxSpec) -> Path:
        if not spec.work_area.is_absolute():
            raise InvalidInput("work_area", f"{spec.work_area} is not an absolute path")
        work_area = spec.work_area.resolve()
        self._check_apart(work_area)
        for name, value in spec.env.items():
            if not _ENV_NAME.fullmatch(name):
                raise InvalidInput("env", f"{name!r} is not a variable name ([A-Za-z_]\\w*)")
            if "\0" in value:
                raise InvalidInput("env", f"the value of {name} holds a NUL byte")
        return work_area

    def _check_apart(self, work_area: Path) -> None:
        # A work area is removed wholesale: it must never hold our state, nor sit inside it.
        state_dir = self.store.root.resolve()
        if (
            work_area == state_dir
            or state_dir in work_area.parents
            or work_area in state_dir.parents
        ):
            raise InvalidInput("work_area", f"{work_area} overlaps the sandbox state {state_dir}")


def _make_source_dir(work_area: Path) -> None:
    # The clone step usually made it; a command run before (or instead of) a clone needs it.
    try:
        (work_area / SOURCE_DIR).mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:  # e.g. code inside replaced it with a dangling link
        raise SandboxError(f"no usable source directory in {work_area}: {exc}") from exc


def _remove_tree(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        if path.exists():  # another destroy was removing it at the same time: finish the job
            shutil.rmtree(path, ignore_errors=True)
    except OSError as exc:
        raise SandboxError(f"cannot remove work area {path}: {exc}") from exc


def _has_exited(pid: int) -> bool:
    """Whether our child `pid` has exited, asked of the kernel without reaping it: /proc can
    still show a just-exited process as running for a moment."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True
