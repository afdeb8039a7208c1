"""The sandbox life cycle both drivers share: create, run, serve, tear down. A driver only says
how a command is launched (confined or not) and how the host reaches a service."""

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from codegenapp.drivers.sandbox import (
    SOURCE_DIR,
    ExecResult,
    OutputSink,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
    TreeWriter,
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


def sandbox_env(
    state: SandboxState,
    *,
    home: str,
    source: str,
    cache: str | None = None,
    extra: Mapping[str, str] | None = None,
    port: int | None = None,
) -> dict[str, str]:
    """The whole environment inside: ours, then the spec's, then the command's, then PATH with
    the project's own tool directories first, and the service's PORT. With a `cache`, the
    package managers keep their downloads there (a project may still point them elsewhere)."""
    cached = {**cache_env(cache)} if cache else {}
    env = {**BASE_ENV, "HOME": home, **cached, **state.env, **(extra or {})}
    env["PATH"] = search_path(state.path_prepend, source=source, base=BASE_ENV["PATH"])
    if port is not None:
        env["PORT"] = str(port)
    return env


def cache_env(cache: str) -> dict[str, str]:
    """Where pip, npm and anything following the XDG convention keep their downloads."""
    return {
        "XDG_CACHE_HOME": cache,
        "PIP_CACHE_DIR": f"{cache}/pip",
        "npm_config_cache": f"{cache}/npm",
    }


def search_path(prepend: tuple[str, ...], *, source: str, base: str) -> str:
    """`base` with `prepend` first; relative entries are taken from the source directory."""
    first = [str(PurePosixPath(source) / entry) for entry in prepend]
    return ":".join([*first, base])


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

    def __init__(self, state_dir: Path, work_root: Path, *, driver: str) -> None:
        self.store = StateStore(state_dir)
        self.work_root = work_root
        self.driver = driver
        self._services: dict[tuple[str, int], _Running] = {}

    def plan(self, spec: SandboxSpec) -> tuple[SandboxHandle, SandboxState]:
        """A new handle and the state to store for `spec`: an id of its own, and a work area
        under the work root named after it. Nothing is made yet."""
        check_env(spec.env)
        slug = re.sub(r"[^a-z0-9]+", "-", spec.name.lower()).strip("-")[:40] or "sandbox"
        handle = SandboxHandle(driver=self.driver, id=f"{slug}-{secrets.token_hex(6)}")
        work_area = self.work_root.resolve() / handle.id
        self._check_apart(work_area)
        state = SandboxState(
            driver=self.driver,
            name=spec.name,
            work_area=str(work_area),
            env=dict(spec.env),
            limits=spec.limits,
            path_prepend=spec.path_prepend,
            allowed_hosts=spec.allowed_hosts,
            owner=record_of(os.getpid()),
        )
        return handle, state

    def abandoned(self, *, mine: bool) -> list[SandboxHandle]:
        """This driver's sandboxes whose worker is gone (and with `mine`, this process's)."""
        me = record_of(os.getpid())
        found = []
        for sandbox_id in self.store.ids():
            try:
                state = self.store.find(sandbox_id)
            except SandboxError:
                state = None  # unreadable: nobody can be using it
            if state is not None and state.driver != self.driver:
                continue
            owner = state.owner if state is not None else None
            if owner is None or not is_alive(owner) or (mine and owner == me):
                found.append(SandboxHandle(driver=self.driver, id=sandbox_id))
        return found

    def save(self, handle: SandboxHandle, state: SandboxState) -> None:
        self.store.save(handle.id, state)

    @staticmethod
    def make_work_area(state: SandboxState) -> None:
        """Make `home/` and an empty `src/` in the (existing or new) work area."""
        work_area = Path(state.work_area)
        for directory in (work_area, work_area / HOME_DIR, work_area / SOURCE_DIR):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def load(self, handle: SandboxHandle) -> SandboxState:
        """The stored spec. Raise `SandboxError` if the sandbox does not exist (never created,
        or destroyed) or belongs to another driver."""
        self._check_driver(handle)
        state = self.store.find(handle.id)
        if state is None:
            raise SandboxError(f"no sandbox {handle.id!r} (never created, or destroyed)")
        return state

    async def put_tree(self, handle: SandboxHandle, write: TreeWriter) -> None:
        """Let `write` make the source directory in place: nothing is copied."""
        source = Path(self.load(handle).work_area) / SOURCE_DIR
        with contextlib.suppress(FileNotFoundError):
            source.rmdir()  # the empty one `create` made; a full one is an error below
        await write(source)

    async def run(
        self, handle: SandboxHandle, command: Command, *, on_output: OutputSink, timeout: float
    ) -> ExecResult:
        """Run `command` to its end; on timeout kill its tree and raise `StepTimedOut`."""
        started = time.monotonic()
        _make_source_dir(Path(self.load(handle).work_area))
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
        return ServiceHandle(sandbox_id=handle.id, port=port, serial=_serial(record))

    async def exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        """The service's exit code, None while it runs, `EXIT_CODE_LOST` if it ended unseen
        (its supervising process went away first)."""
        running = self._services.get((handle.id, service.port))
        if running is not None and _serial(running.record) == service.serial:
            if not _has_exited(running.child.pid) and is_alive(running.record.process):
                return None
            await asyncio.wait({running.watcher})  # reaped, output drained, code recorded
            return exit_status(running.child.returncode)
        record = self.store.service(handle.id, service.port)
        if record is None or _serial(record) != service.serial:
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

    async def kill_all(self, handle: SandboxHandle) -> None:
        """Kill every process this sandbox's commands and services started. Idempotent."""
        self._check_driver(handle)
        for sandbox_id, port in [key for key in self._services if key[0] == handle.id]:
            await self.stop(sandbox_id, port)
        for record in self.store.processes(handle.id):
            await kill_recorded(record)

    async def remove_work_area(self, state: SandboxState) -> None:
        work_area = Path(state.work_area)
        self._check_apart(work_area)
        await asyncio.to_thread(_remove_tree, work_area)

    def forget(self, handle: SandboxHandle) -> None:
        """Remove the stored state. Idempotent."""
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

    def _check_apart(self, work_area: Path) -> None:
        # A work area is removed wholesale: it must never hold our state, nor sit inside it.
        state_dir = self.store.root.resolve()
        if (
            work_area == state_dir
            or state_dir in work_area.parents
            or work_area in state_dir.parents
        ):
            raise InvalidInput("work_area", f"{work_area} overlaps the sandbox state {state_dir}")


def check_env(env: Mapping[str, str], field: str = "env") -> None:
    """Raise `InvalidInput` naming `field` unless `env` can be a process's environment."""
    for name, value in env.items():
        if not _ENV_NAME.fullmatch(name):
            raise InvalidInput(field, f"{name!r} is not a variable name ([A-Za-z_]\\w*)")
        if "\0" in value:
            raise InvalidInput(field, f"the value of {name} holds a NUL byte")


def _serial(record: ServiceRecord) -> str:
    """Tells one start of a service from another on the same port (pids are reused)."""
    return f"{record.process.pid}-{record.process.started}"


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
