"""Egress for host-process sandboxes: one tinyproxy per sandbox on this host's loopback, which
a command inside reaches through a unix socket bound into it only while it runs with egress.

    command inside ──TCP 127.0.0.1:3128──▶ relay.py ──unix <state>/<id>/egress/proxy.sock──▶
        this process ──TCP 127.0.0.1:<port>──▶ tinyproxy ──▶ an allowed host, or 403

tinyproxy refuses every host not on the sandbox's allow list by name, before any lookup or
connection (egress.py, docs/adr/0009). It runs as a recorded process of the sandbox, so that
`destroy` stops it from any process, and dies with the worker that started it. Its refusals
are written into the output of the command that asked, in words.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from codegenapp.drivers.sandbox import OutputSink, SandboxHandle
from codegenapp.drivers.sandbox.bridge import forwarder, listen_in
from codegenapp.drivers.sandbox.egress import (
    free_port,
    proxy_environment,
    refusal_note,
    tinyproxy_argv,
    wait_listening,
    write_proxy_files,
)
from codegenapp.drivers.sandbox.processes import (
    Child,
    Command,
    abandon,
    is_alive,
    record_of,
    spawn,
    tethered,
)
from codegenapp.drivers.sandbox.state import EgressRecord, SandboxState
from codegenapp.drivers.sandbox.supervisor import Supervisor
from codegenapp.errors import SandboxError

EGRESS_SOCKET = "proxy.sock"
START_TIMEOUT_S = 10.0


def egress_environment(proxy_url: str) -> dict[str, str]:
    """What a command needs in its environment to use the proxy at `proxy_url`."""
    return proxy_environment(proxy_url)


@dataclass(slots=True)
class _Open:
    """This process's side of one sandbox's egress: the unix listener and who is listening."""

    server: asyncio.Server
    sinks: list[OutputSink] = field(default_factory=list)
    proxy: Child | None = None
    watcher: asyncio.Task[None] | None = None


class HostEgress:
    """The egress proxies of one driver instance's sandboxes."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def opened(
        self,
        supervisor: Supervisor,
        handle: SandboxHandle,
        state: SandboxState,
        *,
        on_output: OutputSink,
    ) -> AsyncIterator[Path]:
        """The directory to bind into a command that may use the proxy, for its duration;
        the proxy's refusals go to `on_output` meanwhile."""
        async with self._lock:
            current = await self._ensure(supervisor, handle, state)
        current.sinks.append(on_output)
        try:
            yield supervisor.store.directory(handle.id) / "egress"
        finally:
            current.sinks.remove(on_output)

    def close(self, handle: SandboxHandle) -> None:
        """Stop listening for the sandbox (its proxy process is killed with its others)."""
        current = self._open.pop(handle.id, None)
        if current is not None:
            current.server.close()
            if current.watcher is not None:
                current.watcher.cancel()

    async def _ensure(
        self, supervisor: Supervisor, handle: SandboxHandle, state: SandboxState
    ) -> _Open:
        directory = supervisor.store.directory(handle.id) / "egress"
        record = supervisor.store.egress(handle.id)
        current = self._open.get(handle.id)
        if record is None or not is_alive(record.process):
            # Not `parents`: a sandbox destroyed meanwhile must not get its directory back
            # (its proxy would then be recorded where no destroy will look again).
            try:
                directory.mkdir(mode=0o700, exist_ok=True)
            except FileNotFoundError:
                raise SandboxError(f"sandbox {handle.id} was destroyed") from None
            port = free_port()
            config = write_proxy_files(
                directory, allowed_hosts=state.allowed_hosts, listen="127.0.0.1", port=port
            )
            child = await spawn(
                Command(
                    argv=tuple(tethered(tinyproxy_argv(str(config)))),
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                    cwd=directory,
                )
            )
            record = EgressRecord(port=port, process=record_of(child.pid))
            try:
                supervisor.store.save_egress(handle.id, record)
                await wait_listening("127.0.0.1", port, timeout=START_TIMEOUT_S)
            except BaseException:
                await abandon(child)
                raise
            if current is not None:
                self.close(handle)
                current = None
            current = await self._listen(directory, record.port)
            current.proxy = child
            current.watcher = asyncio.create_task(self._watch(child, current))
            self._open[handle.id] = current
        elif current is None:
            current = await self._listen(directory, record.port)
            self._open[handle.id] = current
        return current

    async def _listen(self, directory: Path, port: int) -> _Open:
        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_connection("127.0.0.1", port)

        try:
            server = await listen_in(directory, EGRESS_SOCKET, forwarder(connect))
        except OSError as exc:
            raise SandboxError(f"cannot listen for the sandbox's egress: {exc}") from exc
        return _Open(server=server)

    @staticmethod
    async def _watch(child: Child, current: _Open) -> None:
        """Pass tinyproxy's refusals on to whichever commands are running."""
        pending = ""
        while chunk := await child.read():
            pending += chunk.decode(errors="replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                note = refusal_note(line)
                if note is None:
                    continue
                for sink in list(current.sinks):
                    with contextlib.suppress(Exception):  # that command's log is closing
                        await sink(note)
