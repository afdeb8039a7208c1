"""Disk quotas for host-process sandboxes: a directory that is a file system of its own, of a
fixed size, backed by a sparse image file on this host and mounted through a loop device.

A build that writes past the size gets ENOSPC, and the host's disk is never filled. The image
is sparse: it costs the host only what is written. Making and mounting one takes about 30 ms
(measured on the CI machine: mkfs 12–18 ms, mount 12–17 ms), so each sandbox's work area gets
its own and loses it with the sandbox. Needs root (mount) and `mkfs.ext4`; `available()` says
whether.
"""

import asyncio
import os
import shutil
from pathlib import Path

from codegenapp.errors import SandboxError

MKFS = "/usr/sbin/mkfs.ext4"
# No journal and lazy initialisation: the data is throwaway, and both make mkfs quick.
MKFS_OPTIONS = (
    "-q",
    "-F",
    "-m",
    "0",
    "-O",
    "^has_journal",
    "-E",
    "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
)
# nosuid/nodev: nothing written by a build can become a privileged program or a device.
MOUNT_OPTIONS = "loop,nosuid,nodev,noatime"
COMMAND_TIMEOUT_S = 60.0


def available() -> bool:
    """Whether this process can make quota'd directories (root, mkfs.ext4, loop devices)."""
    return (
        os.geteuid() == 0
        and os.access(MKFS, os.X_OK)
        and shutil.which("mount") is not None
        and Path("/dev/loop-control").exists()
    )


async def mount_new(image: Path, mountpoint: Path, *, size_mb: int) -> None:
    """Make an empty file system of `size_mb` in `image` and mount it on `mountpoint` (both
    created here). Raise `SandboxError` if any part fails; nothing is left behind then."""
    try:
        _sparse_image(image, mountpoint, size_mb=size_mb)
        await run_privileged(MKFS, *MKFS_OPTIONS, str(image))
        await run_privileged("mount", "-o", MOUNT_OPTIONS, str(image), str(mountpoint))
        _tidy_new_root(mountpoint)
    except BaseException:
        await release(image, mountpoint)
        raise


async def release(image: Path, mountpoint: Path) -> None:
    """Unmount `mountpoint` (lazily, so a process still dying inside cannot block it) and
    delete it and `image`. Idempotent."""
    if os.path.ismount(mountpoint):  # noqa: ASYNC240 - one stat
        # Lazy: detached at once, freed when the last open file closes; the loop device is
        # released with it (mount -o loop sets autoclear).
        await run_privileged("umount", "--lazy", str(mountpoint))
    await asyncio.to_thread(_remove, image, mountpoint)


def _sparse_image(image: Path, mountpoint: Path, *, size_mb: int) -> None:
    mountpoint.mkdir(mode=0o700, parents=True, exist_ok=True)
    with image.open("xb") as sparse:
        sparse.truncate(size_mb * 1024 * 1024)


def _tidy_new_root(mountpoint: Path) -> None:
    mountpoint.chmod(0o700)
    (mountpoint / "lost+found").rmdir()


def _remove(image: Path, mountpoint: Path) -> None:
    image.unlink(missing_ok=True)
    try:
        mountpoint.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(mountpoint, ignore_errors=True)


async def run_privileged(*argv: str) -> None:
    """Run a system tool (mkfs, mount, umount) to its end; raise `SandboxError` if it fails."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
    )
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT_S):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SandboxError(f"{argv[0]} did not finish within {COMMAND_TIMEOUT_S:g} s") from None
    except asyncio.CancelledError:
        # Cancelled (a shutdown) while a mount runs: the mount would still finish, after the
        # tear-down looked for it, and stay mounted for good. Let it end first, so that the
        # tear-down that follows the cancellation sees it.
        async with asyncio.timeout(COMMAND_TIMEOUT_S):
            await asyncio.shield(process.wait())
        raise
    if process.returncode != 0:
        text = output.decode(errors="replace").strip()
        raise SandboxError(f"{' '.join(argv[:2])} failed ({process.returncode}): {text}")
