"""The docker sandbox: one container per sandbox, on a local or remote Docker daemon, alone on
an internal network of its own, with a sidecar as its only door (sidecar.py).

Inside, commands run as nobody (65534) in /workspace/src with HOME=/workspace/home, with no
capability and no privilege gained through setuid, under the spec's limits: CPU, memory (no
swap), pids, open files and file size, and the container's disk where the daemon's storage
can quota it (`limitations()` says when not). Nothing of this host goes in but what `put_tree`
copies through the Engine API: no mount, no host path, no host pid. Names and labels
(layout.py) are how any process holding the handle finds the sandbox again.

A sandbox never outlives the worker that made it: each of its containers' main process waits
on its standard input, which the creating driver holds open through an attach connection.
When that worker dies, even by SIGKILL, the connection drops, the main process ends, and
Docker stops the container with every exec in it, and removes it; `reap` removes the networks
and volumes left then.

An internal network alone is not enough: its containers still reach every host listener
bound to 0.0.0.0 through the bridge's gateway address. The sandbox's network has no address
on the host side at all (`inhibit_ipv4`), so nothing of the host answers there.
"""

import asyncio
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from codegenapp.domain.network_policy import check_host_pattern
from codegenapp.drivers.sandbox import (
    ExecResult,
    OutputSink,
    SandboxHandle,
    SandboxSpec,
    ServiceHandle,
    TreeWriter,
)
from codegenapp.drivers.sandbox.docker.archives import pack_directory
from codegenapp.drivers.sandbox.docker.cache import copy_in, write_back
from codegenapp.drivers.sandbox.docker.container import (
    create_container,
    pull_if_missing,
    sandbox_config,
    work_area,
)
from codegenapp.drivers.sandbox.docker.engine import Engine, OutputStream
from codegenapp.drivers.sandbox.docker.layout import (
    CACHE,
    CACHE_LABEL,
    EGRESS,
    HOSTS_LABEL,
    NAMESPACE_LABEL,
    PORT_LABEL,
    RELAY,
    SANDBOX,
    SANDBOX_LABEL,
    WRITEBACK_LABEL,
    Layout,
    cache_volume,
    check_name,
    new_id,
    shared_labels,
)
from codegenapp.drivers.sandbox.docker.objects import ContainerInfo, host_name
from codegenapp.drivers.sandbox.docker.reaper import GRACE_S, reap
from codegenapp.drivers.sandbox.docker.runs import KILLED, call, command_for, run, start
from codegenapp.drivers.sandbox.docker.scripts import SOURCE, stop_service_argv
from codegenapp.drivers.sandbox.docker.sidecar import (
    PUBLISHED,
    Egress,
    create_relay,
    create_sidecar,
)
from codegenapp.drivers.sandbox.processes import EXIT_CODE_LOST
from codegenapp.drivers.sandbox.supervisor import check_argv, check_env, check_port
from codegenapp.errors import InvalidInput, SandboxError

TEARDOWN_TIMEOUT_S = 30.0


async def docker_available(host: str | None) -> str | None:
    """None if a Docker daemon answers at `host` (None: the local socket), else why not."""
    try:
        await Engine(host).ping()
    except SandboxError as exc:
        return str(exc)
    return None


class DockerSandbox:
    """Sandboxes as Docker containers; see the module docstring for what that means."""

    name = "docker"
    isolated = True

    def __init__(
        self,
        host: str | None,
        *,
        proxy_image: str,
        publish_address: str = "127.0.0.1",
        image: str = "",
        namespace: str = "codegenapp",
        cache_max_mb: int = 4096,
    ) -> None:
        """`host`: the daemon's DOCKER_HOST URL (None: the local socket); `proxy_image`: the
        sidecars' image (tinyproxy, socat and sh); `publish_address`: where the daemon's host
        publishes services (0.0.0.0 for a remote daemon, whose loopback is not ours);
        `image`: the image of a spec that names none; `namespace`: the prefix of every name,
        so that drivers sharing a daemon keep apart. Makes nothing and calls nothing."""
        self._engine = Engine(host)
        self._proxy_image = proxy_image
        self._publish_address = publish_address
        self._image = image
        self._namespace = check_name("namespace", namespace)
        self._cache_bytes = cache_max_mb * 1024 * 1024
        self._egress = Egress(self._engine)
        self._held: dict[str, list[tuple[OutputStream, asyncio.Task[None]]]] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._disk_limited: bool | None = None

    def limitations(self) -> list[str]:
        """What this instance cannot enforce here, in words (empty: everything). Whether
        the daemon can quota a container's disk is known once it made a sandbox."""
        missing = []
        if self._disk_limited is False:
            missing.append(
                "no disk quota: the daemon's storage cannot limit a container's size "
                "(overlay2 on xfs mounted with pquota, or btrfs, can)"
            )
        remote = host_name(self._engine.host)
        if self._publish_address.startswith("127.") and not remote.startswith("127."):
            missing.append(
                f"services are published on the loopback of {remote}, out of this host's "
                "reach: set the publish address"
            )
        return missing

    # --- making and removing ---------------------------------------------------------------

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        check_env(spec.env)
        image = spec.image or self._image
        if not image:
            raise InvalidInput("image", "name the Docker image the sandbox runs in, e.g. node:20")
        for host in spec.allowed_hosts:
            try:
                check_host_pattern(host)
            except ValueError as exc:
                raise InvalidInput("allowed_hosts", str(exc)) from None
        if spec.cache_key:
            cache_volume(self._namespace, spec.cache_key)  # refuses a key Docker cannot take
        layout = Layout(self._namespace, new_id(spec.name))
        try:
            await self._provision(layout, spec, image)
        except BaseException:
            await asyncio.shield(self._tear_down(layout))
            raise
        return SandboxHandle(driver=self.name, id=layout.id)

    async def _provision(self, layout: Layout, spec: SandboxSpec, image: str) -> None:
        image_env, _ = await asyncio.gather(
            pull_if_missing(self._engine, image),
            pull_if_missing(self._engine, self._proxy_image),
        )
        await self._engine.create_network(
            layout.egress_network,
            internal=False,
            options={"com.docker.network.bridge.enable_icc": "false"},  # sidecars: apart
            labels=shared_labels(self._namespace, EGRESS),
        )
        await self._engine.create_network(
            layout.network,
            internal=True,
            options={"com.docker.network.bridge.inhibit_ipv4": "true"},
            labels=layout.labels(SANDBOX),
        )
        network = await self._engine.network(layout.network)
        if network is None or not network.subnet:
            raise SandboxError(f"network {layout.network} vanished while the sandbox was made")
        await self._engine.create_volume(layout.relay_volume, layout.labels(RELAY))
        if spec.cache_key:
            volume = layout.cache_volume(spec.cache_key)
            labels = {**shared_labels(self._namespace, CACHE), CACHE_LABEL: spec.cache_key}
            await self._engine.create_volume(volume, labels)
        try:
            async with asyncio.TaskGroup() as both:
                both.create_task(self._make_sidecar(layout, spec, network.subnet))
                both.create_task(self._make_sandbox(layout, spec, image, image_env))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the first is the one to tell
        if spec.cache_key:
            await copy_in(self._engine, layout)

    async def _make_sidecar(self, layout: Layout, spec: SandboxSpec, subnet: str) -> None:
        lifeline = await create_sidecar(
            self._engine,
            layout,
            image=self._proxy_image,
            publish_address=self._publish_address,
            allowed_hosts=spec.allowed_hosts,
            subnet=subnet,
        )
        self._hold(layout, lifeline)

    async def _make_sandbox(
        self, layout: Layout, spec: SandboxSpec, image: str, image_env: tuple[str, ...]
    ) -> None:
        config, host_config = sandbox_config(layout, spec, image, image_env)
        disk_mb = None if self._disk_limited is False else spec.limits.disk_mb
        self._disk_limited = await create_container(
            self._engine, layout.sandbox, config, host_config, disk_mb=disk_mb
        )
        await self._engine.put_archive(layout.sandbox, "/", work_area(cache=bool(spec.cache_key)))
        lifeline = await self._engine.attach(layout.sandbox)
        await lifeline.open()
        self._hold(layout, lifeline)
        await self._engine.start(layout.sandbox)

    async def destroy(self, handle: SandboxHandle) -> None:
        layout = self._layout(handle)
        self._egress.forget(layout)
        failure: SandboxError | None = None
        sandbox = await self._engine.inspect(layout.sandbox)
        if sandbox is not None and sandbox.running and sandbox.labels.get(WRITEBACK_LABEL) == "1":
            try:
                await write_back(
                    self._engine,
                    layout,
                    volume=layout.cache_volume(sandbox.labels[CACHE_LABEL]),
                    image=self._proxy_image,
                    max_bytes=self._cache_bytes,
                )
            except SandboxError as exc:
                failure = exc
        await self._tear_down(layout)
        if failure is not None:
            raise SandboxError(f"the dependency cache was not written back: {failure}")

    async def _tear_down(self, layout: Layout) -> None:
        """Remove every container, the network and the relay volume of the sandbox (never
        the egress bridge the namespace shares, nor a cache). Idempotent."""
        await asyncio.gather(
            self._engine.remove(layout.relay),
            self._engine.remove(layout.sandbox),
            self._engine.remove(layout.sidecar),
        )
        for lifeline, _ in self._held.pop(layout.id, []):
            await lifeline.close()
        delay = 0.01
        try:
            async with asyncio.timeout(TEARDOWN_TIMEOUT_S):
                # An endpoint can outlast its container's removal by a moment.
                while not await self._engine.remove_network(layout.network):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.5)
                while not await self._engine.remove_volume(layout.relay_volume):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.5)
        except TimeoutError:
            raise SandboxError(
                f"{layout.network} is still in use {TEARDOWN_TIMEOUT_S:g} s after its "
                "containers were removed"
            ) from None

    async def reap(self, *, mine: bool = False, grace_s: float = GRACE_S) -> list[str]:
        """Remove what sandboxes of this namespace left when their worker died (see
        reaper.py; nothing younger than `grace_s`), and with `mine` destroy this
        instance's own sandboxes too (at shutdown). Return their ids."""
        own = await self._reap_own() if mine else []
        left = await reap(self._engine, self._namespace, grace_s=grace_s)
        return list(dict.fromkeys([*own, *left]))

    async def _reap_own(self) -> list[str]:
        """Destroy every sandbox this instance made (and holds); raise the first failure
        once all were tried."""
        own = list(self._held)
        failures: list[SandboxError] = []
        for sandbox_id in own:
            try:
                await self.destroy(SandboxHandle(driver=self.name, id=sandbox_id))
            except SandboxError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        return own

    # --- using -----------------------------------------------------------------------------

    async def put_tree(self, handle: SandboxHandle, write: TreeWriter) -> None:
        sandbox = await self._running(handle)
        scratch = Path(tempfile.mkdtemp(prefix="codegenapp-tree-"))
        try:
            tree = scratch / "src"
            await write(tree)
            tree.mkdir(exist_ok=True)
            packed = await asyncio.to_thread(pack_directory, tree)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        with packed:
            await self._engine.put_archive(sandbox.id, SOURCE, packed)

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
        sandbox = await self._running(handle)
        command = command_for(sandbox, argv, env)
        if not (egress and sandbox.labels.get(HOSTS_LABEL)):
            return await run(self._engine, command, on_output=on_output, timeout=timeout)
        layout = self._layout(handle)
        async with self._egress.opened(layout, on_output=on_output) as proxy:
            command = replace(command, env={**proxy, **command.env})
            return await run(self._engine, command, on_output=on_output, timeout=timeout)

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
        check_port(port)
        check_env(env or {})
        sandbox = await self._running(handle)
        layout = self._layout(handle)
        if sandbox.labels.get(HOSTS_LABEL):
            await self._egress.closed(layout)  # no proxy for the deployed app to reach
        await call(self._engine, sandbox.id, stop_service_argv(port))
        command = command_for(sandbox, argv, env)
        command = replace(command, env={**command.env, "PORT": str(port)})
        exec_id, watcher = await start(self._engine, command, port=port, on_output=on_output)
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        relay = await self._engine.inspect(layout.relay)
        if relay is None or not relay.running or relay.labels.get(PORT_LABEL) != str(port):
            await self._engine.remove(layout.relay)
            lifeline = await create_relay(self._engine, layout, image=self._proxy_image, port=port)
            self._hold(layout, lifeline)
        return ServiceHandle(sandbox_id=handle.id, port=port, serial=exec_id)

    async def service_exit_code(self, handle: SandboxHandle, service: ServiceHandle) -> int | None:
        layout = self._layout(handle)
        info = await self._engine.exec_info(service.serial)
        sandbox = await self._engine.inspect(layout.sandbox)
        if sandbox is None or not sandbox.running:
            return KILLED if info is None or info.running else info.exit_code
        if info is None or info.container_id != sandbox.id:
            return EXIT_CODE_LOST  # Docker forgot it (minutes after it ended)
        return None if info.running else info.exit_code

    async def endpoint(self, handle: SandboxHandle, port: int) -> str:
        """The sidecar's published port, which reaches `port` inside while it is the port of
        the sandbox's latest service (one at a time)."""
        check_port(port)
        layout = self._layout(handle)
        relay = await self._engine.inspect(layout.relay)
        if relay is None or relay.labels.get(PORT_LABEL) != str(port):
            raise SandboxError(f"no service was started on port {port} in {handle.id!r}")
        sidecar = await self._engine.inspect(layout.sidecar)
        published = None if sidecar is None else sidecar.published.get(PUBLISHED)
        if published is None:
            raise SandboxError(f"the sidecar of {handle.id!r} publishes no port")
        host = self._publish_address
        if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a comparison, not a bind
            host = host_name(self._engine.host)
        return f"http://{f'[{host}]' if ':' in host else host}:{published}"

    # --- finding -----------------------------------------------------------------------------

    def _layout(self, handle: SandboxHandle) -> Layout:
        if handle.driver != self.name:
            raise SandboxError(f"handle {handle.id!r} belongs to driver {handle.driver!r}")
        try:
            return Layout(self._namespace, check_name("id", handle.id))
        except InvalidInput as exc:
            raise SandboxError(f"no sandbox {handle.id!r}: {exc.message}") from None

    async def _running(self, handle: SandboxHandle) -> ContainerInfo:
        layout = self._layout(handle)
        sandbox = await self._engine.inspect(layout.sandbox)
        if (
            sandbox is None
            or not sandbox.running
            or sandbox.labels.get(SANDBOX_LABEL) != layout.id
            or sandbox.labels.get(NAMESPACE_LABEL) != self._namespace
        ):
            raise SandboxError(f"no sandbox {handle.id!r} (never created, or destroyed)")
        return sandbox

    def _hold(self, layout: Layout, lifeline: OutputStream) -> None:
        """Keep a container's lifeline open (and drained, so the daemon never waits on us)
        until the sandbox is destroyed, or this process ends."""

        async def drain() -> None:
            try:
                while await lifeline.read() is not None:
                    pass
            finally:
                await lifeline.close()

        held = self._held.setdefault(layout.id, [])
        held[:] = [(stream, task) for stream, task in held if not task.done()]
        held.append((lifeline, asyncio.create_task(drain())))
