"""A tinyproxy run as a plain host process for a test: the product's own configuration, files
and readiness check (drivers/sandbox/egress.py), started on a free loopback port and stopped
at the end of the block."""

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers.sandbox.egress import (
    HTTP_PORT,
    HTTPS_PORT,
    LOG_FILE,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    Refusal,
    free_port,
    refusals,
    tinyproxy_argv,
    wait_listening,
    write_proxy_files,
)
from codegenapp.errors import SandboxError, SandboxUnavailable

_START_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class EgressProxy:
    """A tinyproxy running as a host process (see `run_egress_proxy`)."""

    host: str
    port: int
    pid: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def refusals(self) -> list[Refusal]:
        """Every refusal so far. tinyproxy writes the log line before it answers 403."""
        log = await asyncio.to_thread(self.log_path.read_text, errors="replace")
        return refusals(log)


@contextlib.asynccontextmanager
async def run_egress_proxy(
    allowed_hosts: Iterable[str],
    directory: Path,
    *,
    tinyproxy: str = "tinyproxy",
    https_port: int = HTTPS_PORT,
    http_port: int = HTTP_PORT,
    upstream: str | None = None,
    log_connections: bool = False,
    start_timeout: float = START_TIMEOUT_S,
) -> AsyncIterator[EgressProxy]:
    """Run a tinyproxy on 127.0.0.1 (a free port) that allows `allowed_hosts`, for loopback
    clients, until the block ends; then stop it. Its files go in `directory`: the
    configuration, the filter and the log (kept afterwards). Raise `ValueError` for a host
    `check_host_pattern` refuses, `SandboxUnavailable` if tinyproxy is not installed,
    `SandboxError` if it does not start.

    The port is found free, then given to tinyproxy: if another process takes it meanwhile,
    tinyproxy exits and another port is tried.
    """
    executable = shutil.which(tinyproxy)
    if executable is None:
        raise SandboxUnavailable("tinyproxy is not installed (apt-get install -y tinyproxy-bin)")
    hosts = list(allowed_hosts)

    async def configure(port: int) -> list[str]:
        config_path = await asyncio.to_thread(
            write_proxy_files,
            directory,
            allowed_hosts=hosts,
            listen="127.0.0.1",
            port=port,
            https_port=https_port,
            http_port=http_port,
            upstream=upstream,
            log_connections=log_connections,
        )
        return tinyproxy_argv(str(config_path), tinyproxy=executable)

    log_path = directory / LOG_FILE
    process, port = await _start_on_a_free_port(configure, log_path, timeout=start_timeout)
    try:
        yield EgressProxy(host="127.0.0.1", port=port, pid=process.pid, log_path=log_path)
    finally:
        await _stop(process)


async def _start_on_a_free_port(
    configure: Callable[[int], Awaitable[list[str]]], log_path: Path, *, timeout: float
) -> tuple[asyncio.subprocess.Process, int]:
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = free_port()
        process = await _start(await configure(port), log_path)
        try:
            await wait_listening("127.0.0.1", port, timeout=timeout, process=process)
        except SandboxError as exc:
            exited = process.returncode is not None  # e.g. the port was taken meanwhile
            await _stop(process)
            if exited and attempt < _START_ATTEMPTS:
                continue
            tail = await asyncio.to_thread(_log_tail, log_path)
            raise SandboxError(f"{exc}; its log ends:\n{tail}") from None
        return process, port
    raise AssertionError("unreachable: the last attempt returns or raises")


def _log_tail(log_path: Path) -> str:
    with log_path.open("rb") as log:
        log.seek(max(0, log.seek(0, os.SEEK_END) - 2000))
        return log.read().decode(errors="replace")


async def _start(argv: list[str], log_path: Path) -> asyncio.subprocess.Process:
    # The log is ours (0600) and only lent to tinyproxy as its standard output: it stays
    # readable after tinyproxy drops to nobody, and after it exits.
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={},
            start_new_session=True,
        )
    except OSError as exc:
        raise SandboxError(f"cannot start {argv[0]!r}: {exc}") from exc
    finally:
        os.close(log)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (tinyproxy logs "Shutting down."), then SIGKILL if it lingers."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            return
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    await process.wait()
