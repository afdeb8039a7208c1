"""Sandbox drivers as the tests make them: every kind this machine can run, and what a test
needs to talk to one (a transcript of its output, waiting for a service to end)."""

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.docker_daemon import DockerDaemon
from tests.support.images import TestImages

from codegenapp.drivers.sandbox import Sandbox, SandboxHandle, ServiceHandle
from codegenapp.drivers.sandbox.bubblewrap import BubblewrapSandbox, bubblewrap_available
from codegenapp.drivers.sandbox.docker import DockerSandbox
from codegenapp.drivers.sandbox.docker.layout import NAMESPACE_LABEL, ROLE_LABEL
from codegenapp.drivers.sandbox.process import ProcessSandbox

ON_DOCKER = pytest.mark.xdist_group("docker")
"""Tests that make Docker sandboxes run in one test worker, one at a time (`make test` runs
two workers): a second daemon-heavy test beside them only slows both, and the host network
interfaces Docker adds and removes make Chromium abort its requests (ERR_NETWORK_CHANGED)."""
DOCKER = pytest.param("docker", marks=ON_DOCKER)

SESSION_NAMESPACE = f"cgtest-{uuid.uuid4().hex[:8]}"
"""The docker sandboxes of this test session: its own names, apart from any other session's
(and from a server's) on the shared test daemon; `remove_docker_namespace` ends it."""


class Transcript:
    """An output sink that remembers everything and lets a test wait for a piece of text."""

    def __init__(self) -> None:
        self.text = ""
        self._changed = asyncio.Condition()

    async def __call__(self, chunk: str) -> None:
        async with self._changed:
            self.text += chunk
            self._changed.notify_all()

    async def wait_for(self, needle: str, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: needle in self.text)


async def output_of(driver: Sandbox, handle: SandboxHandle, *argv: str, **options: object) -> str:
    """What `argv` printed (the driver's own notes included)."""
    transcript = Transcript()
    await driver.exec(handle, argv, on_output=transcript, timeout=120, **options)  # type: ignore[arg-type]
    return transcript.text


async def shell(driver: Sandbox, handle: SandboxHandle, script: str) -> tuple[int, str]:
    """Run `script` with sh in the source directory: its exit code and output."""
    transcript = Transcript()
    result = await driver.exec(handle, ["sh", "-c", script], on_output=transcript, timeout=120)
    return result.exit_code, transcript.text


async def wait_for_service_exit(
    driver: Sandbox, handle: SandboxHandle, service: ServiceHandle, timeout: float = 20.0
) -> int:
    """The service's exit code, once it has one (polled: the seam offers no exit event)."""
    async with asyncio.timeout(timeout):
        while (code := await driver.service_exit_code(handle, service)) is None:
            await asyncio.sleep(0.02)
    return code


@dataclass(frozen=True, slots=True)
class Docker:
    """The test daemon and its images, for sandboxes of the `docker` kind."""

    daemon: DockerDaemon
    images: TestImages

    def driver(self, *, host: str | None = None, image: str | None = None) -> DockerSandbox:
        """A driver on the session's namespace (on the daemon's socket unless `host` says
        another way to it), running the runtime image unless a spec names another."""
        return DockerSandbox(
            host or self.daemon.host,
            proxy_image=self.images.egress_proxy,
            image=self.images.runtime if image is None else image,
            namespace=SESSION_NAMESPACE,
        )

    def leftovers(self) -> list[str]:
        """What destroyed sandboxes of this session left on the daemon: containers, networks
        and volumes, but the egress bridge and the caches, which are kept on purpose."""
        found = []
        for kind in ("container", "network", "volume"):
            listed = docker_cli(
                self.daemon.host, kind, "ls", "--quiet", "--filter",
                f"label={NAMESPACE_LABEL}={SESSION_NAMESPACE}",
                *(["--all"] if kind == "container" else []),
            ).split()  # fmt: skip
            for ref in listed:
                labels = docker_labels(self.daemon.host, kind, ref)
                if labels.get(ROLE_LABEL) not in ("egress", "cache"):
                    found.append(f"{kind} {ref}")
        return found


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of sandbox under test: how to make its driver, and how to see what is left."""

    name: str
    make: Callable[[Path], Sandbox]  # state directory → driver
    work_root: Path
    isolated: bool
    docker: Docker | None = None

    def leftovers(self) -> list[str]:
        """What destroyed sandboxes left behind (nothing, when all is well)."""
        if self.docker is not None:
            return self.docker.leftovers()
        return [path.name for path in self.work_root.iterdir()] if self.work_root.exists() else []


async def require_bubblewrap() -> None:
    if await asyncio.to_thread(bubblewrap_available):
        return
    # make setup installs it: a machine where it cannot run is a failure, never a skip.
    pytest.fail("bwrap cannot run here: apt-get install -y bubblewrap")


async def sandbox_kind(name: str, tmp_path: Path, *, docker: Docker | None = None) -> Kind:
    """A kind of sandbox with its own state, work and cache directories under `tmp_path`
    (`docker`: the daemon and images the docker kind needs, from the session fixtures)."""
    work_root = tmp_path / "work"
    caches = tmp_path / "caches"
    if name == "docker":
        if docker is None:
            raise ValueError("the docker kind needs the docker_engine and docker_images fixtures")

        def make(state: Path) -> Sandbox:
            # Keeps nothing on this host: its state directory is made, and stays empty.
            state.mkdir(parents=True, exist_ok=True)
            return docker.driver()

        return Kind(name, make, work_root, isolated=True, docker=docker)
    if name == "bubblewrap":
        await require_bubblewrap()
        return Kind(
            name,
            lambda state: BubblewrapSandbox(state, work_root, cache_root=caches),
            work_root,
            isolated=True,
        )
    if name == "process":
        return Kind(name, lambda state: ProcessSandbox(state, work_root), work_root, False)
    raise ValueError(f"no sandbox kind {name!r}")


def docker_cli(host: str, *args: str) -> str:
    """The docker command line against `host`; its standard output. Raises on failure."""
    done = subprocess.run(
        ["docker", "--host", host, *args], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def docker_labels(host: str, kind: str, ref: str) -> dict[str, str]:
    """The labels of a container, network or volume (empty if it is gone meanwhile)."""
    done = subprocess.run(
        ["docker", "--host", host, kind, "inspect", "--format", "{{json .Labels}}", ref],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return {}
    labels: dict[str, str] = json.loads(done.stdout) or {}
    return labels


def remove_docker_namespace(host: str, namespace: str = SESSION_NAMESPACE) -> None:
    """Remove everything docker sandboxes of `namespace` made, caches included."""
    selector = f"label={NAMESPACE_LABEL}={namespace}"
    containers = docker_cli(host, "container", "ls", "--all", "--quiet", "--filter", selector)
    if containers.split():
        docker_cli(host, "container", "rm", "--force", "--volumes", *containers.split())
    for kind in ("network", "volume"):
        listed = docker_cli(host, kind, "ls", "--quiet", "--filter", selector).split()
        if listed:
            docker_cli(host, kind, "rm", *listed)
