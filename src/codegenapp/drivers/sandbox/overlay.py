"""A project's dependency cache as one sandbox sees it: the shared cache read-only underneath,
the sandbox's own writes on top, in its work area (overlayfs).

A build reads everything earlier builds downloaded, and writes where its disk quota counts
them. What it wrote reaches the shared cache only when the sandbox was made with
`cache_writeback` (validations of the base branch, whose code the project already trusts), and
only once the sandbox's processes are dead: a pull request cannot plant a package that later
builds of the project would pick up. Needs root (mount); `available()` says whether.
"""

import contextlib
import os
import shutil
import stat
from pathlib import Path

from codegenapp.drivers.sandbox.quota import run_privileged
from codegenapp.errors import SandboxError

UPPER, WORK, MERGED = "upper", "work", "merged"


def available() -> bool:
    return os.geteuid() == 0 and "overlay" in Path("/proc/filesystems").read_text()


async def mount(lower: Path, view: Path) -> Path:
    """Mount the view of `lower` under `view` (made here); return the directory to bind."""
    for name in (UPPER, WORK, MERGED):
        (view / name).mkdir(mode=0o700, parents=True, exist_ok=True)
    options = f"lowerdir={lower},upperdir={view / UPPER},workdir={view / WORK}"
    if any(ch in str(path) for path in (lower, view) for ch in ",:"):
        raise SandboxError(f"cannot mount an overlay on a path holding ',' or ':': {view}")
    await run_privileged("mount", "-t", "overlay", "overlay", "-o", options, str(view / MERGED))
    return view / MERGED


async def unmount(view: Path) -> None:
    """Detach the view (idempotent); its upper layer stays for `write_back`."""
    merged = view / MERGED
    if os.path.ismount(merged):  # noqa: ASYNC240 - one stat
        await run_privileged("umount", "--lazy", str(merged))


def write_back(view: Path, cache: Path, *, max_bytes: int) -> None:
    """Copy what the sandbox added or changed into the shared `cache`, each file replaced
    atomically (concurrent builds may read it meanwhile). Deletions are not carried over. If
    the cache then holds more than `max_bytes`, it is emptied: the next trusted build fills
    it again with what is needed now. Blocking: call it through `asyncio.to_thread`."""
    upper = view / UPPER
    for directory, subdirectories, files in os.walk(upper):
        relative = Path(directory).relative_to(upper)
        target_dir = cache / relative
        target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in files:
            source = Path(directory, name)
            info = source.lstat()
            if stat.S_ISCHR(info.st_mode):  # a whiteout: a deletion, not carried over
                continue
            _replace(source, target_dir / name, info)
        for name in subdirectories:
            if Path(directory, name).is_symlink():
                _replace(Path(directory, name), target_dir / name, Path(directory, name).lstat())
    if _size(cache) > max_bytes:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(mode=0o700, parents=True, exist_ok=True)


def _replace(source: Path, target: Path, info: os.stat_result) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(source), temporary)
        elif stat.S_ISREG(info.st_mode):
            shutil.copyfile(source, temporary)
            os.chmod(temporary, stat.S_IMODE(info.st_mode) & 0o755)
        else:
            return  # sockets, FIFOs: nothing a cache needs
        os.replace(temporary, target)
    except OSError:
        # e.g. a file where the cache has a directory: that entry stays as it was.
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _size(root: Path) -> int:
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += Path(directory, name).lstat().st_size
    return total
