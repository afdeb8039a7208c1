"""Small state files that drivers keep on disk: a lock shared across processes, atomic writes."""

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from codegenapp.files import (
    PRIVATE_DIR,
    PRIVATE_FILE,
    read_regular_file,
    write_private,
)

LOCK_TIMEOUT_SECONDS = 30.0
MAX_STATE_BYTES = 64 * 1024 * 1024  # a scripted job keeps its recipe and every prompt
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
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
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
    """Replace `path` with `data` (mode 0600) so a reader sees the old file or the new one."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    write_private(path, data)


def read_state(path: Path) -> bytes | None:
    """A state file's content, or None if there is none. Bounded like every file we read."""
    try:
        return read_regular_file(path, limit=MAX_STATE_BYTES)
    except FileNotFoundError:
        return None
