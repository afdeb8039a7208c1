"""Reading and writing the small files the product keeps: bounded, regular files only, private.

A path can name a device (`/dev/zero` never ends), a FIFO (opening it waits for a writer that
never comes) or a socket. Every file the product reads goes through `read_regular_file`, which
opens without blocking, refuses anything but a regular file, and reads at most `limit` bytes.
Everything written under the home is created 0600 (`write_private`), so no other local user
can read a token, a key or a database.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class FileRefused(OSError):
    """The path is not a regular file, or it is larger than the caller accepts."""


def read_regular_file(path: Path, *, limit: int) -> bytes:
    """The content of `path`, at most `limit` bytes. Raise `FileRefused` for anything but a
    regular file or a file over `limit`, and `OSError` (e.g. `FileNotFoundError`) as usual.

    O_NONBLOCK keeps a FIFO from holding the caller; fstat on the open descriptor (not the path)
    leaves no window for the path to be swapped after the check.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path} is not a regular file")
        if info.st_size > limit:
            raise FileRefused(f"{path} is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        # Read up to one byte past the limit: a file that grew after fstat is refused too.
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise FileRefused(f"{path} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> None:
    """Create `path` (and its parents) if needed, and make it 0700 whatever it was."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)


def touch_private(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist; make it 0600 if it does.
    SQLite gives its -wal and -shm files the mode of the database file, so creating that one
    private first keeps the whole set private."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    os.close(fd)
    path.chmod(PRIVATE_FILE)


def write_private(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data`, mode 0600, atomically: a reader sees the old file or the new.
    `durable` syncs the data to disk before the rename (skip it for state that a crash makes
    worthless anyway)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file 0600
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
