"""The Docker Engine API as the docker sandbox uses it: typed calls with timeouts, through
aiodocker, each on a client of its own (so no connection outlives its event loop), with
every refusal raised as `SandboxError` naming what was refused.

Pinned to API 1.41 (Docker 20.10): newer daemons serve it unchanged, and pinning saves the
version round trip aiodocker makes before every first call otherwise.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import IO, cast

import aiodocker
import aiohttp
from aiodocker.stream import Stream
from aiodocker.types import JSONObject

from codegenapp.drivers.sandbox.docker.objects import (
    ContainerInfo,
    ContainerSummary,
    ExecInfo,
    NetworkInfo,
    VolumeInfo,
    container_info,
    labels_of,
)
from codegenapp.errors import SandboxError, SandboxUnavailable

API_VERSION = "v1.41"
DEFAULT_HOST = "unix:///var/run/docker.sock"
CALL_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10.0
PULL_TIMEOUT_S = 900.0
ARCHIVE_TIMEOUT_S = 1800.0  # a large source tree or dependency cache, in or out
STDOUT, STDERR = 1, 2
UNREACHABLE = 900  # aiodocker's status for a connection that failed

ArchiveBody = bytes | IO[bytes] | AsyncIterable[bytes]


class OutputStream:
    """The output of an exec or an attached container, as (stream, bytes) messages; None at
    the end. Holds its own client: close it (or use `async with`)."""

    def __init__(self, client: aiodocker.Docker, stream: Stream) -> None:
        self._client = client
        self._stream = stream
        self._closed = False

    async def open(self) -> None:
        """Connect (the hijacked HTTP connection): from now on the daemon keeps what it
        attached to us for us."""
        try:
            await self._stream.__aenter__()
        except aiodocker.DockerError as exc:
            await self.close()
            raise _refused("attaching", exc) from exc
        except (aiohttp.ClientError, OSError) as exc:
            await self.close()
            raise SandboxError(f"lost the Docker daemon while attaching: {exc}") from exc

    async def read(self) -> tuple[int, bytes] | None:
        try:
            message = await self._stream.read_out()
        except (aiohttp.ClientError, OSError):
            return None  # the daemon dropped the connection: the same as an end
        return None if message is None else (message.stream, message.data)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(aiohttp.ClientError, OSError, RuntimeError):
            await self._stream.close()
        await self._client.close()

    async def __aenter__(self) -> "OutputStream":
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class Engine:
    """One Docker daemon, at `host` (a DOCKER_HOST URL; None: the local socket)."""

    def __init__(self, host: str | None) -> None:
        self.host = host or DEFAULT_HOST

    def _client(self, total: float | None = CALL_TIMEOUT_S) -> aiodocker.Docker:
        timeout = aiohttp.ClientTimeout(total=total, connect=CONNECT_TIMEOUT_S)
        return aiodocker.Docker(url=self.host, api_version=API_VERSION, timeout=timeout)

    @contextlib.asynccontextmanager
    async def _call(
        self, what: str, total: float | None = CALL_TIMEOUT_S
    ) -> AsyncIterator[aiodocker.Docker]:
        """A client for one call; its errors become `SandboxError`s saying `what` failed."""
        try:
            async with self._client(total) as client:
                yield client
        except aiodocker.DockerError as exc:
            raise _refused(what, exc) from exc
        except TimeoutError as exc:  # before OSError, of which it is one
            raise SandboxError(f"the Docker daemon at {self.host} did not answer {what}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise SandboxUnavailable(
                f"cannot reach the Docker daemon at {self.host}: {exc}"
            ) from exc

    # --- the daemon and its images ---------------------------------------------------------

    async def ping(self) -> None:
        async with self._call("a ping", total=CONNECT_TIMEOUT_S) as client:
            await client.version()

    async def image_env(self, image: str) -> tuple[str, ...] | None:
        """The image's configured environment (NAME=value), or None if the daemon lacks it."""
        async with self._call(f"inspecting image {image}") as client:
            try:
                found = await client.images.inspect(image)
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return None
                raise
        return tuple(str(entry) for entry in (found.get("Config") or {}).get("Env") or ())

    async def pull(self, image: str) -> None:
        async with self._call(f"pulling {image}", total=PULL_TIMEOUT_S) as client:
            await client.images.pull(image)

    # --- containers ------------------------------------------------------------------------

    async def create_container(self, name: str, config: Mapping[str, object]) -> str:
        async with self._call(f"creating container {name}") as client:
            created = await client.containers.create(cast(JSONObject, dict(config)), name=name)
        return created.id

    async def start(self, container: str) -> None:
        async with self._call(f"starting {container}") as client:
            await client.containers.container(container).start()

    async def inspect(self, container: str) -> ContainerInfo | None:
        """The container, or None if there is none by that name or id."""
        async with self._call(f"inspecting {container}") as client:
            try:
                data = await client._query_json(f"containers/{container}/json")
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return None
                raise
        return container_info(data)

    async def containers(self, labels: Sequence[str]) -> list[ContainerSummary]:
        """Every container (running or not) carrying all of `labels` (`key` or `key=value`)."""
        async with self._call("listing containers") as client:
            found = await client._query_json(
                "containers/json", params={"all": "1", "filters": _filters(labels)}
            )
        return [
            ContainerSummary(
                id=str(entry["Id"]),
                name=str((entry.get("Names") or ["/"])[0]).lstrip("/"),
                state=str(entry.get("State", "")),
                labels=labels_of(entry.get("Labels")),
            )
            for entry in found
        ]

    async def remove(self, container: str) -> None:
        """Kill and remove the container with its anonymous volumes; return once it is gone.
        Idempotent: a container already gone, or being removed by Docker itself (AutoRemove),
        is fine."""
        async with self._call(f"removing {container}") as client:
            try:
                await client.containers.container(container).delete(force=True, v=True)
                return
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return
                if exc.status != 409:
                    raise
        # Docker is removing it already: wait for that to finish, so that its name, network
        # endpoint and volumes are free afterwards.
        delay = 0.01
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                while await self.inspect(container) is not None:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.2)
        except TimeoutError:
            raise SandboxError(
                f"{container} was still being removed after {CALL_TIMEOUT_S:g} s"
            ) from None

    async def wait(self, container: str, timeout: float) -> int:
        """Wait for the container to stop; its exit code."""
        async with self._call(f"waiting for {container}", total=timeout) as client:
            result = await client.containers.container(container).wait()
        return int(result.get("StatusCode", -1))

    async def attach(self, container: str, *, stdout: bool = False) -> OutputStream:
        """Attach to the container's standard input (and output): open the returned stream
        before starting it. Its input stays open until the stream is closed."""
        client = self._client(total=None)
        stream = client.containers.container(container).attach(
            stdin=True, stdout=stdout, stderr=stdout
        )
        return OutputStream(client, stream)

    async def put_archive(self, container: str, path: str, tar: ArchiveBody) -> None:
        """Unpack the tar `tar` into `path` (an existing directory) in the container, running
        or not; owners and modes as the archive says."""
        async with (
            self._call(f"copying files into {container}", total=ARCHIVE_TIMEOUT_S) as client,
            client._query(
                f"containers/{container}/archive",
                method="PUT",
                params={"path": path},
                data=tar,
                headers={"Content-Type": "application/x-tar"},
            ) as response,
        ):
            await response.read()

    @contextlib.asynccontextmanager
    async def get_archive(self, container: str, path: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """The tar of `path` in the container, as it streams (entries named from its last
        component on)."""
        async with (
            self._call(f"copying {path} out of {container}", total=ARCHIVE_TIMEOUT_S) as client,
            client._query(
                f"containers/{container}/archive", method="GET", params={"path": path}
            ) as response,
        ):
            yield response.content.iter_chunked(1024 * 1024)

    # --- execs -----------------------------------------------------------------------------

    async def create_exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        user: str,
        workdir: str = "",
        env: Mapping[str, str] | None = None,
    ) -> str:
        async with self._call(f"starting a command in {container}") as client:
            made = await client.containers.container(container).exec(
                list(argv), user=user, workdir=workdir or None, environment=dict(env or {})
            )
        return made.id

    def exec_output(self, exec_id: str) -> OutputStream:
        """Start the exec; its output streams (open it, then read)."""
        client = self._client(total=None)
        return OutputStream(client, client.containers.exec(exec_id).start(detach=False))

    async def exec_info(self, exec_id: str) -> ExecInfo | None:
        async with self._call("reading a command's status") as client:
            try:
                data = await client._query_json(f"exec/{exec_id}/json")
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return None
                raise
        code = data.get("ExitCode")
        return ExecInfo(
            container_id=str(data.get("ContainerID", "")),
            running=bool(data.get("Running")),
            exit_code=None if code is None else int(code),
        )

    # --- networks and volumes --------------------------------------------------------------

    async def create_network(
        self, name: str, *, internal: bool, options: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        """Make a bridge network; one of that name already there is fine."""
        config = {
            "Name": name,
            "Driver": "bridge",
            "Internal": internal,
            "CheckDuplicate": True,
            "Options": dict(options),
            "Labels": dict(labels),
        }
        async with self._call(f"creating network {name}") as client:
            try:
                await client.networks.create(config)
            except aiodocker.DockerError as exc:
                if exc.status != 409:
                    raise

    async def network(self, name: str) -> NetworkInfo | None:
        async with self._call(f"inspecting network {name}") as client:
            try:
                data = await client._query_json(f"networks/{name}")
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return None
                raise
        config = (data.get("IPAM") or {}).get("Config") or [{}]
        return NetworkInfo(
            id=str(data["Id"]),
            name=str(data["Name"]),
            labels=labels_of(data.get("Labels")),
            subnet=str(config[0].get("Subnet", "")),
            containers=len(data.get("Containers") or {}),
        )

    async def networks(self, labels: Sequence[str]) -> list[NetworkInfo]:
        async with self._call("listing networks") as client:
            found = await client._query_json("networks", params={"filters": _filters(labels)})
        networks = [await self.network(str(entry["Id"])) for entry in found]
        return [network for network in networks if network is not None]

    async def connect(self, network: str, container: str) -> None:
        async with self._call(f"connecting {container} to {network}") as client:
            await client._query_json(
                f"networks/{network}/connect", method="POST", data={"Container": container}
            )

    async def remove_network(self, name: str) -> bool:
        """Remove the network; False if containers still use it. Idempotent."""
        async with self._call(f"removing network {name}") as client:
            try:
                await client._query_json(f"networks/{name}", method="DELETE")
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return True
                if exc.status in (403, 409) or "active endpoints" in exc.message:
                    return False
                raise
        return True

    async def create_volume(self, name: str, labels: Mapping[str, str]) -> None:
        """Make a named volume; one of that name already there is kept as it is."""
        async with self._call(f"creating volume {name}") as client:
            await client._query_json(
                "volumes/create", method="POST", data={"Name": name, "Labels": dict(labels)}
            )

    async def volumes(self, labels: Sequence[str]) -> list[VolumeInfo]:
        async with self._call("listing volumes") as client:
            found = await client._query_json("volumes", params={"filters": _filters(labels)})
        return [
            VolumeInfo(name=str(entry["Name"]), labels=labels_of(entry.get("Labels")))
            for entry in found.get("Volumes") or ()
        ]

    async def remove_volume(self, name: str) -> bool:
        """Remove the volume; False if a container still uses it. Idempotent."""
        async with self._call(f"removing volume {name}") as client:
            try:
                await client._query_json(f"volumes/{name}", method="DELETE")
            except aiodocker.DockerError as exc:
                if exc.status == 404:
                    return True
                if exc.status == 409:
                    return False
                raise
        return True


def _refused(what: str, exc: aiodocker.DockerError) -> SandboxError:
    if exc.status == UNREACHABLE:
        return SandboxUnavailable(f"no Docker daemon answers: {exc.message}")
    return SandboxError(f"the Docker daemon refused {what}: {exc.message} (HTTP {exc.status})")


def _filters(labels: Sequence[str]) -> str:
    return json.dumps({"label": list(labels)})
