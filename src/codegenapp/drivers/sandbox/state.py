"""Per-sandbox state on the host, as small JSON files, so any process can act on a handle.

Layout under the driver's `state_dir` (never inside a work area, so code in the sandbox cannot
change what a driver reads back):

    <id>/sandbox.json          the spec and where the driver put it (work area, cgroup)
    <id>/process-<pid>.json    a command running now (removed when it ends)
    <id>/service-<port>.json   a service: its process, host port and, once known, exit code
    <id>/egress/               the egress proxy's configuration and socket (bubblewrap)

One file per process or service, each replaced atomically, so concurrent workers never
overwrite each other's records.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from codegenapp.drivers.sandbox import ResourceLimits
from codegenapp.drivers.sandbox.processes import ProcessRecord
from codegenapp.errors import SandboxError
from codegenapp.files import PRIVATE_DIR, read_regular_file, write_private

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,95}")
MAX_STATE_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SandboxState:
    driver: str
    name: str
    work_area: str  # on this host; never leaves the driver
    env: dict[str, str]
    limits: ResourceLimits
    path_prepend: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    cache_dir: str = ""  # on this host: what commands see at /cache, if anything
    cache_source: str = ""  # the project's shared cache that cache_dir shows
    cache_writeback: bool = False  # copy what was written into cache_source at the end
    quota_image: str = ""  # the file system image holding the work area, if it has a quota
    cgroups: tuple[str, ...] = ()  # the sandbox's cgroup directories, if it has any
    owner: ProcessRecord | None = None  # the worker that made it; it dies with that worker


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    port: int  # the port the service was asked to listen on
    host_port: int  # where the host reaches it (the process driver picks its own)
    process: ProcessRecord
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class EgressRecord:
    port: int  # where the sandbox's egress proxy listens, on this host's loopback
    process: ProcessRecord


_SANDBOX = TypeAdapter(SandboxState)
_EGRESS = TypeAdapter(EgressRecord)
_PROCESS = TypeAdapter(ProcessRecord)
_SERVICE = TypeAdapter(ServiceRecord)


class StateStore:
    """Reads and writes sandbox state under one host directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, sandbox_id: str) -> Path:
        """Where `sandbox_id`'s files live. Raise `SandboxError` for an id we never issue."""
        if not _ID.fullmatch(sandbox_id):
            raise SandboxError(f"not a sandbox id: {sandbox_id!r}")
        return self.root / sandbox_id

    def save(self, sandbox_id: str, state: SandboxState) -> None:
        directory = self.directory(sandbox_id)
        directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        _write(directory / "sandbox.json", _SANDBOX.dump_json(state))

    def find(self, sandbox_id: str) -> SandboxState | None:
        """The stored spec, or None if the sandbox was never created or was destroyed."""
        return _read(self.directory(sandbox_id) / "sandbox.json", _SANDBOX)

    def add_process(self, sandbox_id: str, record: ProcessRecord) -> None:
        """Record a running command. Raise `SandboxError` if the sandbox was destroyed."""
        path = self.directory(sandbox_id) / f"process-{record.pid}.json"
        try:
            _write(path, _PROCESS.dump_json(record))
        except FileNotFoundError as exc:
            raise SandboxError(f"sandbox {sandbox_id!r} was destroyed") from exc

    def remove_process(self, sandbox_id: str, pid: int) -> None:
        (self.directory(sandbox_id) / f"process-{pid}.json").unlink(missing_ok=True)

    def save_service(self, sandbox_id: str, record: ServiceRecord) -> None:
        """Record a service. Raise `SandboxError` if the sandbox was destroyed."""
        path = self.directory(sandbox_id) / f"service-{record.port}.json"
        try:
            _write(path, _SERVICE.dump_json(record))
        except FileNotFoundError as exc:
            raise SandboxError(f"sandbox {sandbox_id!r} was destroyed") from exc

    def service(self, sandbox_id: str, port: int) -> ServiceRecord | None:
        return _read(self.directory(sandbox_id) / f"service-{port}.json", _SERVICE)

    def save_egress(self, sandbox_id: str, record: EgressRecord) -> None:
        """Record the sandbox's egress proxy. Raise `SandboxError` if it was destroyed."""
        try:
            _write(self.directory(sandbox_id) / "egress.json", _EGRESS.dump_json(record))
        except FileNotFoundError as exc:
            raise SandboxError(f"sandbox {sandbox_id!r} was destroyed") from exc

    def egress(self, sandbox_id: str) -> EgressRecord | None:
        return _read(self.directory(sandbox_id) / "egress.json", _EGRESS)

    def processes(self, sandbox_id: str) -> list[ProcessRecord]:
        """Every recorded process of the sandbox: commands, services and its egress proxy."""
        directory = self.directory(sandbox_id)
        commands = [_read(path, _PROCESS) for path in directory.glob("process-*.json")]
        services = [_read(path, _SERVICE) for path in directory.glob("service-*.json")]
        egress = self.egress(sandbox_id)
        return [
            *(record for record in commands if record is not None),
            *(service.process for service in services if service is not None),
            *([egress.process] if egress is not None else []),
        ]

    def ids(self) -> list[str]:
        """Every sandbox with stored state."""
        if not self.root.is_dir():
            return []
        return sorted(entry.name for entry in self.root.iterdir() if _ID.fullmatch(entry.name))

    def remove(self, sandbox_id: str) -> None:
        """Forget the sandbox. Idempotent."""
        shutil.rmtree(self.directory(sandbox_id), ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    # Not synced: after a crash of the machine every sandbox is gone anyway. Private: the spec
    # holds the project's environment, secrets included.
    write_private(path, data, durable=False)


def _read(path: Path, adapter: TypeAdapter[T]) -> T | None:
    try:
        return adapter.validate_json(read_regular_file(path, limit=MAX_STATE_BYTES))
    except FileNotFoundError:
        return None
    except ValidationError as exc:
        raise SandboxError(f"unreadable sandbox state {path}: {exc}") from exc
