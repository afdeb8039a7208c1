"""Small state files that drivers keep on disk: a lock shared across processes, atomic writes."""

import asyncio
import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

LOCK_TIMEOUT_SECONDS = 30.0
_FIRST_WAIT = 0.001
_LONGEST_WAIT = 0.05


@contextlib.asynccontextmanager
async def locked(
    path: Path, *, error: Callable[[str], Exception], timeout: float = LOCK_TIMEOUT_SECONDS
) -> AsyncIterator[None]:
    """Hold an exclusive `flock` on `path` (created if needed) for the body of the block.

    Waiting polls with a non-blocking `flock` rather than blocking in a thread: a cancelled
    caller then never leaves a thread behind that takes the lock after it has gone.
    Raise `error(message)` (the driver's own error type) after `timeout` seconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        wait = _FIRST_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise error(f"{path} stayed locked for {timeout:g} s") from None
                await asyncio.sleep(wait)
                wait = min(wait * 2, _LONGEST_WAIT)
        yield
    finally:
        # Closing the descriptor releases the lock, also when the body raised.
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
