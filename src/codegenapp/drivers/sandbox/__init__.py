"""The Sandbox seam: where untrusted pull-request code runs.

Implementations: `bubblewrap` (Linux namespaces and cgroups on this host), `docker` (one
container per sandbox, on a local or remote daemon) and `process` (no isolation at all, for
machines with nothing better; it says NOT ISOLATED in every log).

Nothing host-specific crosses this seam: a handle names a sandbox by an opaque id, services by
their port, and the source goes in through `put_tree`, so that a sandbox may live on another
machine. A command gets nothing from the host environment: only what the spec and the command
name, plus PATH, HOME, CI, LANG and (for a service) PORT.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

OutputSink = Callable[[str], Awaitable[None]]
"""Receives a command's output (stdout and stderr merged) as decoded text chunks, live."""

TreeWriter = Callable[[Path], Awaitable[None]]
"""Writes a directory tree at the path it is given (which does not exist yet)."""

SOURCE_DIR = "src"
"""Where `put_tree` puts the code, relative to the work area; commands run there."""
CACHE_DIR = "/cache"
"""Where a sandbox with a `cache_key` sees the project's dependency cache."""


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """What one sandbox may use, all its processes together."""

    cpus: float = 2.0
    memory_mb: int = 4096
    pids: int = 4096
    disk_mb: int = 10240  # the work area; /tmp is memory and counts as memory
    file_size_mb: int = 4096  # one file
    open_files: int = 4096  # per process


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """What to build. `env` reaches every command; `allowed_hosts` is the egress allow list
    (empty: no command can ever reach beyond the sandbox); `cache_key` names a dependency cache
    kept between sandboxes (a project's), seen at `CACHE_DIR`. What a sandbox writes there
    reaches later sandboxes only with `cache_writeback` (give it to trusted code only: the
    base branch, never a pull request)."""

    name: str  # shown in logs, e.g. "validation-12"
    env: Mapping[str, str] = field(default_factory=dict)
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    image: str = ""  # required by docker, ignored by the others
    path_prepend: tuple[str, ...] = ()  # relative to the source directory, or absolute inside
    allowed_hosts: tuple[str, ...] = ()
    cache_key: str = ""
    cache_writeback: bool = False


@dataclass(frozen=True, slots=True)
class SandboxHandle:
    """Everything needed to act on a sandbox, from any process: store it as it is."""

    driver: str
    id: str

    @classmethod
    def from_stored(cls, stored: Mapping[str, object]) -> "SandboxHandle":
        """A handle as `dataclasses.asdict` stored it (older rows carried more fields)."""
        return cls(driver=str(stored["driver"]), id=str(stored["id"]))


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class ServiceHandle:
    """A service started by `start_service`; `serial` tells a restarted one apart."""

    sandbox_id: str
    port: int
    serial: str


class Sandbox(Protocol):
    name: str
    isolated: bool

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        """Make the sandbox: its work area (with an empty source directory), its limits, and
        whatever else it needs. Raise `SandboxUnavailable` when this kind of sandbox cannot
        run here, `InvalidInput` for a spec it cannot honour."""
        ...

    async def put_tree(self, handle: SandboxHandle, write: TreeWriter) -> None:
        """Fill the source directory: `write(path)` writes the tree at a fresh `path` on this
        host, and the driver makes it the sandbox's source (in place, or by copying it in).
        Raise `SandboxError` if the sandbox cannot take it (e.g. over its disk quota)."""
        ...

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
        """Run `argv` in the source directory and wait for it, with the spec's environment
        plus `env`. With `egress`, the command reaches the spec's allowed hosts through the
        egress proxy (`HTTP(S)_PROXY`), and nothing else; without, nothing beyond the sandbox.
        On timeout, kill its whole process tree and raise `StepTimedOut`."""
        ...

    async def start_service(
        self,
        handle: SandboxHandle,
        argv: Sequence[str],
        *,
        port: int,
        on_output: OutputSink,
        env: Mapping[str, str] | None = None,
    ) -> ServiceHandle:
        """Start `argv` in the background with `$PORT` set to `port`, the spec's environment
        plus `env`, and no network beyond the sandbox; output keeps flowing to `on_output`
        until the service stops or the sandbox is destroyed. A service already on `port` is
        replaced."""
        ...

    async def service_exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        """The service's exit code, or None while it runs."""
        ...

    async def endpoint(self, handle: SandboxHandle, port: int) -> str:
        """The base URL (no trailing slash) at which this host reaches `port` inside; nothing
        else can reach it. Raise `SandboxError` if no service was started on `port`."""
        ...

    async def destroy(self, handle: SandboxHandle) -> None:
        """Kill every process of the sandbox and remove everything it made (not the
        dependency cache). Idempotent, and fine for a sandbox whose `create` never finished."""
        ...

    async def reap(self, *, mine: bool = False) -> list[str]:
        """Remove what sandboxes whose worker is gone left behind (a killed server's), and
        with `mine` this process's own too (at shutdown); never a live worker's. Return the
        ids of the sandboxes removed."""
        ...
