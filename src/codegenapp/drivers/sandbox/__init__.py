"""The Sandbox seam: where untrusted pull-request code runs.

Implementations: `bubblewrap` (Linux namespaces: the work area is the only writable path, no
network but its own loopback, no host secrets) and `process` (no isolation at all, for
machines with nothing better; it says NOT ISOLATED in every log). Docker comes later.

A sandbox gets nothing from the host environment: only what `SandboxSpec.env` names, plus
PATH, HOME, CI and PORT.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

OutputSink = Callable[[str], Awaitable[None]]
"""Receives a command's output (stdout and stderr merged) as decoded text chunks, live."""

SOURCE_DIR = "src"
"""Where the clone step puts the code, relative to the work area; commands run there."""


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    memory_mb: int = 4096
    processes: int = 1024
    file_size_mb: int = 2048
    open_files: int = 4096


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    name: str  # shown in logs, e.g. "validation-12"
    work_area: Path  # host directory, created by `create`; the only writable path inside
    env: Mapping[str, str] = field(default_factory=dict)
    limits: ResourceLimits = field(default_factory=ResourceLimits)


@dataclass(frozen=True, slots=True)
class SandboxHandle:
    """Everything needed to act on a sandbox, from any process: store it as it is."""

    driver: str
    id: str
    work_area: str


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class ServiceHandle:
    sandbox_id: str
    port: int
    pid: int


class Sandbox(Protocol):
    name: str
    isolated: bool

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        """Make the work area and whatever the sandbox needs. Raise `SandboxUnavailable`."""
        ...

    async def exec(
        self,
        handle: SandboxHandle,
        argv: Sequence[str],
        *,
        on_output: OutputSink,
        timeout: float,
    ) -> ExecResult:
        """Run `argv` in the source directory and wait for it. On timeout, kill its whole
        process tree and raise `StepTimedOut`."""
        ...

    async def start_service(
        self, handle: SandboxHandle, argv: Sequence[str], *, port: int, on_output: OutputSink
    ) -> ServiceHandle:
        """Start `argv` in the background with `$PORT` set to `port`; output keeps flowing to
        `on_output` until the service stops or the sandbox is destroyed."""
        ...

    async def service_exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        """The service's exit code, or None while it runs."""
        ...

    async def endpoint(self, handle: SandboxHandle, port: int) -> str:
        """The base URL (no trailing slash) at which the host reaches `port` inside."""
        ...

    async def destroy(self, handle: SandboxHandle) -> None:
        """Kill every process of the sandbox and remove its work area. Idempotent."""
        ...
