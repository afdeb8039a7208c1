"""The host's side of a sandbox's network boundary: TCP listeners and unix sockets spliced
together with asyncio (the sandbox's side is relay.py)."""

import asyncio
import contextlib
import errno
import os
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

CHUNK_BYTES = 65536
Connect = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


async def splice(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    peer_reader: asyncio.StreamReader,
    peer_writer: asyncio.StreamWriter,
) -> None:
    """Copy bytes both ways until both directions have ended, then close both connections.
    An end of stream is passed on as a half-close; an error on either side closes both."""
    try:
        async with asyncio.TaskGroup() as directions:
            directions.create_task(_copy(reader, peer_writer))
            directions.create_task(_copy(peer_reader, writer))
    except* OSError:
        pass  # a reset from either end ends the exchange; nobody is waiting for a reason
    finally:
        for side in (writer, peer_writer):
            side.close()
            with contextlib.suppress(OSError):
                await side.wait_closed()


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while chunk := await source.read(CHUNK_BYTES):
        sink.write(chunk)
        await sink.drain()
    if sink.can_write_eof() and not sink.is_closing():
        sink.write_eof()


def forwarder(
    connect: Connect,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A connection handler that splices each client to a fresh `connect()`, or closes it if
    that fails (nothing listening yet: the client sees the connection close)."""

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            peer_reader, peer_writer = await connect()
        except OSError:
            writer.close()
            return
        await splice(reader, writer, peer_reader, peer_writer)

    return forward


async def open_socket_in(
    directory: Path, name: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the unix socket `directory/name`, where code in a sandbox can write. The last
    two components are opened without following links, so a symlink planted there can never
    send our traffic to a host socket (Docker's, say); the connection goes through an O_PATH
    descriptor, which also keeps long paths within the 108 bytes a socket address allows."""
    target = _open_socket_nofollow(directory, name)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, f"/proc/self/fd/{target}")
    except OSError:
        sock.close()
        raise
    finally:
        os.close(target)
    return await asyncio.open_unix_connection(sock=sock)


async def listen_in(
    directory: Path,
    name: str,
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> asyncio.Server:
    """A unix server at `directory/name` (a stale socket there is replaced), bound through a
    descriptor of `directory` so that the path's length does not matter."""
    fd = os.open(directory, os.O_PATH | os.O_DIRECTORY)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=fd)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(f"/proc/self/fd/{fd}/{name}")
        except OSError:
            sock.close()
            raise
    finally:
        os.close(fd)
    return await asyncio.start_unix_server(handler, sock=sock)


def _open_socket_nofollow(directory: Path, name: str) -> int:
    no_follow = os.O_PATH | os.O_NOFOLLOW
    parent = os.open(directory.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        inner = os.open(directory.name, no_follow | os.O_DIRECTORY, dir_fd=parent)
    finally:
        os.close(parent)
    try:
        target = os.open(name, no_follow, dir_fd=inner)
    finally:
        os.close(inner)
    if not stat.S_ISSOCK(os.fstat(target).st_mode):
        os.close(target)
        raise OSError(errno.ECONNREFUSED, "the relay socket is not a socket")
    return target
