"""A project's dependency cache for docker sandboxes: a named volume each sandbox sees
read-only at /cache-shared and copies into its own /cache when it starts, so that a pull
request's writes stay in its container (and count against its disk). A trusted build's
/cache (`cache_writeback`) replaces the volume's contents when its sandbox is destroyed, by
a short-lived helper container, the only one that ever mounts the volume writable; if it is
bigger than the cap, the volume is emptied instead (the next trusted build fills it again).
"""

from collections.abc import AsyncIterator

from codegenapp.drivers.sandbox import CACHE_DIR
from codegenapp.drivers.sandbox.docker.archives import Entry, tar_of
from codegenapp.drivers.sandbox.docker.engine import Engine
from codegenapp.drivers.sandbox.docker.layout import HELPER, Layout
from codegenapp.drivers.sandbox.docker.runs import call
from codegenapp.drivers.sandbox.docker.scripts import (
    CACHE_COPY_IN,
    CACHE_INCOMING,
    CACHE_REPLACE,
    CACHE_SHARED,
)
from codegenapp.errors import SandboxError

COPY_TIMEOUT_S = 600.0


def cache_mount(volume: str) -> dict[str, object]:
    """How a sandbox mounts the project's cache: read-only, never filled from the image."""
    return {
        "Type": "volume",
        "Source": volume,
        "Target": CACHE_SHARED,
        "ReadOnly": True,
        "VolumeOptions": {"NoCopy": True},
    }


async def copy_in(engine: Engine, layout: Layout) -> None:
    """Fill the sandbox's /cache from the shared cache (nothing to do when it is empty)."""
    code, output = await call(
        engine, layout.sandbox, ["sh", "-c", CACHE_COPY_IN], timeout=COPY_TIMEOUT_S
    )
    if code != 0:
        raise SandboxError(f"could not copy the dependency cache into {layout.sandbox}: {output}")


async def write_back(
    engine: Engine, layout: Layout, *, volume: str, image: str, max_bytes: int
) -> None:
    """Make the sandbox's /cache (it must still run) the shared cache's new contents."""
    helper = f"{layout.sandbox}-cache"
    config = {
        "Image": image,
        "Entrypoint": ["sh", "-c", CACHE_REPLACE],
        "Cmd": ["cache-helper"],
        "User": "0:0",
        "Labels": layout.labels(HELPER),
        "HostConfig": {
            "NetworkMode": "none",
            "CapDrop": ["ALL"],
            # To replace files the sandbox user owns, and keep that user as their owner.
            "CapAdd": ["CHOWN", "DAC_OVERRIDE", "FOWNER"],
            "SecurityOpt": ["no-new-privileges"],
            "Mounts": [{"Type": "volume", "Source": volume, "Target": CACHE_SHARED}],
        },
    }
    await engine.remove(helper)  # one a failed destroy left
    await engine.create_container(helper, config)
    try:
        whole = await _copy_out(engine, layout.sandbox, helper, max_bytes)
        if whole:
            marker = f"{CACHE_INCOMING}.complete".lstrip("/")
            await engine.put_archive(helper, "/", tar_of({marker: Entry(mode=0o644, content=b"")}))
        await engine.start(helper)
        code = await engine.wait(helper, COPY_TIMEOUT_S)
        if code != 0:
            raise SandboxError(f"writing the dependency cache back failed (exit code {code})")
    finally:
        await engine.remove(helper)


async def _copy_out(engine: Engine, sandbox: str, helper: str, max_bytes: int) -> bool:
    """Stream the sandbox's /cache into the helper's incoming directory; False if it was
    over `max_bytes` (then none of it counts)."""
    over = False

    async def capped(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        nonlocal over
        sent = 0
        async for chunk in chunks:
            sent += len(chunk)
            if sent > max_bytes:
                over = True
                return  # a truncated archive: the daemon refuses it, and it never counts
            yield chunk

    incoming = CACHE_INCOMING.rsplit("/", 1)[0] or "/"
    try:
        async with engine.get_archive(sandbox, CACHE_DIR) as chunks:
            await engine.put_archive(helper, incoming, capped(chunks))
    except SandboxError:
        if not over:
            raise
    return not over
