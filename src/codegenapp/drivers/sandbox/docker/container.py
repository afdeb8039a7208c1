"""The sandbox container: how a spec becomes its configuration (image, environment, limits,
labels, the lifeline as its main process), and the work area it starts with."""

from collections.abc import Mapping

from codegenapp.drivers.sandbox import CACHE_DIR, SandboxSpec
from codegenapp.drivers.sandbox.docker.archives import Entry, tar_of
from codegenapp.drivers.sandbox.docker.cache import cache_mount
from codegenapp.drivers.sandbox.docker.engine import Engine
from codegenapp.drivers.sandbox.docker.layout import (
    CACHE_LABEL,
    HOSTS_LABEL,
    SANDBOX,
    WRITEBACK_LABEL,
    Layout,
)
from codegenapp.drivers.sandbox.docker.scripts import LIFELINE, SCRIPTS, SOURCE, script_files
from codegenapp.drivers.sandbox.docker.sidecar import attached, confined
from codegenapp.drivers.sandbox.supervisor import BASE_ENV, cache_env, search_path
from codegenapp.errors import SandboxError, SandboxUnavailable

HOME = "/workspace/home"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # Docker's own


async def pull_if_missing(engine: Engine, image: str) -> tuple[str, ...]:
    """The image's own environment (NAME=value); the image is pulled if the daemon lacks it.
    Raise `SandboxUnavailable` naming it if it cannot be had."""
    env = await engine.image_env(image)
    if env is not None:
        return env
    try:
        await engine.pull(image)
    except SandboxError as exc:
        raise SandboxUnavailable(
            f"image {image} is not on the Docker daemon at {engine.host} and could not be "
            f"pulled: {exc}"
        ) from exc
    env = await engine.image_env(image)
    if env is None:
        raise SandboxUnavailable(f"image {image} was pulled but is not on the Docker daemon")
    return env


def sandbox_config(
    layout: Layout, spec: SandboxSpec, image: str, image_env: tuple[str, ...]
) -> tuple[dict[str, object], dict[str, object]]:
    """The container's configuration and, apart, its host configuration (for `create`)."""
    limits = spec.limits
    memory = limits.memory_mb * 1024 * 1024
    file_size = limits.file_size_mb * 1024 * 1024
    labels = {HOSTS_LABEL: ",".join(spec.allowed_hosts)}
    host_config: dict[str, object] = {
        "NetworkMode": layout.network,
        "NanoCpus": int(limits.cpus * 1_000_000_000),
        "Memory": memory,
        "MemorySwap": memory,  # the same: no swap to escape the limit into
        "PidsLimit": limits.pids,
        "Ulimits": [
            {"Name": "nofile", "Soft": limits.open_files, "Hard": limits.open_files},
            {"Name": "fsize", "Soft": file_size, "Hard": file_size},
        ],
    }
    if spec.cache_key:
        labels[CACHE_LABEL] = spec.cache_key
        labels[WRITEBACK_LABEL] = "1" if spec.cache_writeback else ""
        host_config["Mounts"] = [cache_mount(layout.cache_volume(spec.cache_key))]
    config = attached(
        {
            "Image": image,
            "Entrypoint": ["sh", "-c", LIFELINE],
            "Cmd": ["lifeline"],
            "User": "0:0",  # not the commands' user: they cannot reach its input
            "WorkingDir": "/workspace",
            "Env": [f"{name}={value}" for name, value in environment(spec, image_env).items()],
            "Labels": layout.labels(SANDBOX, labels),
        }
    )
    return config, confined(host_config)


async def create_container(
    engine: Engine,
    name: str,
    config: Mapping[str, object],
    host_config: Mapping[str, object],
    *,
    disk_mb: int | None,
) -> bool:
    """Create the container, with a quota of `disk_mb` on what it writes unless that is None
    or the daemon's storage cannot enforce one; return whether it has a quota."""
    if disk_mb is not None:
        quota = {**host_config, "StorageOpt": {"size": f"{disk_mb}M"}}
        try:
            await engine.create_container(name, {**config, "HostConfig": quota})
        except SandboxError as exc:
            # overlay2 off xfs/pquota says "--storage-opt is supported only for ...", vfs
            # and others say a size option or quota is not supported.
            words = str(exc).lower()
            if "storage" not in words and "quota" not in words and "size" not in words:
                raise
        else:
            return True
    await engine.create_container(name, {**config, "HostConfig": dict(host_config)})
    return False


def work_area(*, cache: bool) -> bytes:
    """What a new sandbox starts with: its directories, owned by the commands' user, and
    our scripts, root's (the commands read them, and cannot change them)."""
    directories = {"workspace": 0o755, "workspace/src": 0o700, "workspace/home": 0o700}
    if cache:
        directories[CACHE_DIR.lstrip("/")] = 0o700
    entries = {name: Entry(mode=mode) for name, mode in directories.items()}
    entries[SCRIPTS.lstrip("/")] = Entry(mode=0o755, owner=0)
    for path, script in script_files().items():
        entries[path.lstrip("/")] = Entry(mode=0o644, content=script.encode(), owner=0)
    return tar_of(entries)


def environment(spec: SandboxSpec, image_env: tuple[str, ...]) -> dict[str, str]:
    """The container's environment on top of the image's: ours, the cache's, the spec's, and
    PATH, the image's with the project's tool directories first."""
    image = dict(entry.split("=", 1) for entry in image_env if "=" in entry)
    cached = cache_env(CACHE_DIR) if spec.cache_key else {}
    env = {"CI": BASE_ENV["CI"], "LANG": BASE_ENV["LANG"], "HOME": HOME, **cached, **spec.env}
    base = image.get("PATH", DEFAULT_PATH)
    env["PATH"] = search_path(spec.path_prepend, source=SOURCE, base=base)
    return env
