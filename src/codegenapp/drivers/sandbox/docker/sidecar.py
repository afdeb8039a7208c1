"""A docker sandbox's only door, its sidecar (a small container from the egress proxy image,
on the sandbox's internal network and on the namespace's egress bridge):

    out: command ──http://<sidecar>:3128──▶ tinyproxy ──▶ an allowed host, or 403
    in:  this host ──<publish address>:<port>──▶ sidecar socat :8080 ──unix /relay/service.sock──▶
         relay socat (in the sandbox's network namespace) ──▶ 127.0.0.1:<service port>

tinyproxy (configured by egress.py, refusing by name) runs only while a command with egress
runs, so that the deployed app and every other command find nothing on port 3128. The relay
shares the sandbox's network namespace, so a service listening on its own loopback only is
reached too; it talks to the sidecar through a socket in a volume only they mount.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from codegenapp.drivers.sandbox import OutputSink
from codegenapp.drivers.sandbox.docker.archives import Entry, tar_of
from codegenapp.drivers.sandbox.docker.engine import Engine, OutputStream
from codegenapp.drivers.sandbox.docker.layout import PORT_LABEL, RELAY, SIDECAR, Layout
from codegenapp.drivers.sandbox.docker.runs import call, pump
from codegenapp.drivers.sandbox.docker.scripts import (
    EGRESS_CONFIG,
    EGRESS_PORT,
    EGRESS_READY,
    EGRESS_START,
    EGRESS_STOP,
    RELAY_MAIN,
    RELAY_PORT,
    RELAY_SOCKET,
    SIDECAR_MAIN,
    Run,
)
from codegenapp.drivers.sandbox.egress import (
    FILTER_FILE,
    filter_rules,
    proxy_environment,
    refusal_note,
    tinyproxy_config,
)
from codegenapp.errors import SandboxError

ROOT = "0:0"  # the lifelines and socat: root, with no capability at all
PROXY_USER = "65534:65534"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PUBLISHED = f"{RELAY_PORT}/tcp"


def confined(host_config: dict[str, object]) -> dict[str, object]:
    """`host_config` plus what every container of ours gets: no capability, no privilege
    gained through setuid, an init that reaps orphans, and removal once it stops."""
    return {
        "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges"],
        "Init": True,
        "AutoRemove": True,
        "IpcMode": "private",
        **host_config,
    }


def attached(config: dict[str, object]) -> dict[str, object]:
    """`config` for a container whose main process is a lifeline: its input is the attach
    connection of the driver that made it, closed (by that driver, or its death) to end it."""
    return {"OpenStdin": True, "StdinOnce": True, "AttachStdin": True, **config}


async def create_sidecar(
    engine: Engine,
    layout: Layout,
    *,
    image: str,
    publish_address: str,
    allowed_hosts: tuple[str, ...],
    subnet: str,
) -> OutputStream:
    """Make and start the sidecar; return its lifeline (keep it open while the sandbox
    lives). Its proxy's configuration is in place; tinyproxy itself does not run yet."""
    config = attached(
        {
            "Image": image,
            "Entrypoint": ["sh", "-c", SIDECAR_MAIN],
            "Cmd": ["sidecar"],
            "User": ROOT,
            "Labels": layout.labels(SIDECAR),
            "ExposedPorts": {PUBLISHED: {}},
            "HostConfig": confined(
                {
                    "NetworkMode": layout.egress_network,
                    "PortBindings": {PUBLISHED: [{"HostIp": publish_address, "HostPort": ""}]},
                    "Mounts": [_relay_mount(layout)],
                    "Memory": 256 * 1024 * 1024,
                    "MemorySwap": 256 * 1024 * 1024,
                    "PidsLimit": 512,  # tinyproxy's threads count
                    "NanoCpus": 1_000_000_000,
                }
            ),
        }
    )
    await engine.create_container(layout.sidecar, config)
    await engine.connect(layout.network, layout.sidecar)
    if allowed_hosts:
        await engine.put_archive(layout.sidecar, "/", _proxy_files(allowed_hosts, subnet))
    return await _start_attached(engine, layout.sidecar)


async def create_relay(engine: Engine, layout: Layout, *, image: str, port: int) -> OutputStream:
    """Make and start the relay to the service on `port`; return its lifeline."""
    config = attached(
        {
            "Image": image,
            "Entrypoint": ["sh", "-c", RELAY_MAIN],
            "Cmd": ["relay", str(port)],
            "User": ROOT,
            "Labels": layout.labels(RELAY, {PORT_LABEL: str(port)}),
            "HostConfig": confined(
                {
                    "NetworkMode": f"container:{layout.sandbox}",
                    "Mounts": [_relay_mount(layout)],
                    "Memory": 128 * 1024 * 1024,
                    "MemorySwap": 128 * 1024 * 1024,
                    "PidsLimit": 256,
                    "NanoCpus": 1_000_000_000,
                }
            ),
        }
    )
    await engine.create_container(layout.relay, config)
    return await _start_attached(engine, layout.relay)


def _relay_mount(layout: Layout) -> dict[str, object]:
    target = RELAY_SOCKET.rsplit("/", 1)[0]
    return {"Type": "volume", "Source": layout.relay_volume, "Target": target}


def _proxy_files(allowed_hosts: tuple[str, ...], subnet: str) -> bytes:
    directory = EGRESS_CONFIG.rsplit("/", 1)[0]
    filter_path = f"{directory}/{FILTER_FILE}"
    config = tinyproxy_config(
        allowed_hosts=allowed_hosts,
        listen="0.0.0.0",  # noqa: S104 - only `subnet` (the sandbox's network) is allowed in
        port=EGRESS_PORT,
        filter_path=filter_path,
        clients=(subnet,),
    )
    return tar_of(
        {
            directory.lstrip("/"): Entry(mode=0o755, owner=0),
            filter_path.lstrip("/"): Entry(
                mode=0o644, content=filter_rules(allowed_hosts).encode(), owner=0
            ),
            EGRESS_CONFIG.lstrip("/"): Entry(mode=0o644, content=config.encode(), owner=0),
        }
    )


async def _start_attached(engine: Engine, container: str) -> OutputStream:
    """Attach, start, and wait for the main process to say `ready`; the stream is then its
    lifeline, drained (so the daemon never blocks on it) until it ends."""
    lifeline = await engine.attach(container, stdout=True)
    await lifeline.open()
    try:
        await engine.start(container)
        said = b""
        async with asyncio.timeout(READY_TIMEOUT_S):
            while b"ready\n" not in said:
                message = await lifeline.read()
                if message is None:
                    raise SandboxError(
                        f"{container} stopped while starting: {said.decode(errors='replace')}"
                    )
                said += message[1]
    except TimeoutError:
        await lifeline.close()
        raise SandboxError(f"{container} did not get ready within {READY_TIMEOUT_S:g} s") from None
    except BaseException:
        await lifeline.close()
        raise
    return lifeline


@dataclass(slots=True)
class _Proxy:
    """tinyproxy as this driver instance started it in one sidecar."""

    users: int = 0
    sinks: list[OutputSink] = field(default_factory=list)
    watcher: asyncio.Task[None] | None = None


class Egress:
    """The egress proxies of one driver instance's sandboxes: tinyproxy runs in a sidecar
    while at least one command with egress runs there."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._proxies: dict[str, _Proxy] = {}
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def opened(
        self, layout: Layout, *, on_output: OutputSink
    ) -> AsyncIterator[dict[str, str]]:
        """The environment that sends a command through the sandbox's proxy, for as long as
        the block runs; the proxy's refusals go to `on_output` meanwhile."""
        async with self._lock:
            proxy = self._proxies.get(layout.id)
            if proxy is None:
                proxy = await self._start(layout)
                self._proxies[layout.id] = proxy
            proxy.users += 1
        proxy.sinks.append(on_output)
        try:
            yield proxy_environment(f"http://{layout.sidecar}:{EGRESS_PORT}")
        finally:
            proxy.sinks.remove(on_output)
            await asyncio.shield(self._release(layout, proxy))

    async def closed(self, layout: Layout) -> None:
        """Make sure no proxy runs in the sidecar (one another instance left, say), unless a
        command of ours with egress runs there now."""
        async with self._lock:
            if layout.id not in self._proxies:
                await self._stop(layout)

    def forget(self, layout: Layout) -> None:
        """Stop listening to the sandbox's proxy (destroy: it dies with its container)."""
        proxy = self._proxies.pop(layout.id, None)
        if proxy is not None and proxy.watcher is not None:
            proxy.watcher.cancel()

    async def _start(self, layout: Layout) -> _Proxy:
        exec_id = await self._engine.create_exec(
            layout.sidecar, ["sh", "-c", EGRESS_START], user=PROXY_USER
        )
        stream = self._engine.exec_output(exec_id)
        await stream.open()
        proxy = _Proxy()
        proxy.watcher = asyncio.create_task(self._watch(stream, proxy))
        try:
            ready = ["sh", "-c", EGRESS_READY]
            code, output = await call(self._engine, layout.sidecar, ready, user=PROXY_USER)
            if code != 0:
                raise SandboxError(f"the egress proxy of {layout.sidecar} did not start: {output}")
        except BaseException:
            proxy.watcher.cancel()
            raise
        return proxy

    async def _release(self, layout: Layout, proxy: _Proxy) -> None:
        async with self._lock:
            proxy.users -= 1
            if proxy.users or self._proxies.get(layout.id) is not proxy:
                return
            del self._proxies[layout.id]
            with contextlib.suppress(SandboxError):  # destroyed meanwhile
                await self._stop(layout)
        if proxy.watcher is not None:
            await asyncio.wait({proxy.watcher}, timeout=STOP_TIMEOUT_S)
            proxy.watcher.cancel()

    async def _stop(self, layout: Layout) -> None:
        await call(self._engine, layout.sidecar, ["sh", "-c", EGRESS_STOP], user=PROXY_USER)

    @staticmethod
    async def _watch(stream: OutputStream, proxy: _Proxy) -> None:
        """Pass tinyproxy's refusals on to whichever commands are running, in words."""
        pending = ""

        async def refusals(text: str) -> None:
            nonlocal pending
            *lines, pending = (pending + text).split("\n")
            for line in lines:
                note = refusal_note(line)
                if note is None:
                    continue
                for sink in list(proxy.sinks):
                    with contextlib.suppress(Exception):  # that command's log is closing
                        await sink(note)

        no_marker: asyncio.Future[Run | None] = asyncio.get_running_loop().create_future()
        no_marker.set_result(None)
        try:
            await pump(stream, refusals, no_marker)
        finally:
            await stream.close()
