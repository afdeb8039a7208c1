"""Forwards each connection on a unix socket to 127.0.0.1:<port>; stdlib only, run in a sandbox.

    python3 -I relay.py <unix-socket-path> <port> [-- service argv...]

A service in a bubblewrap sandbox listens on the loopback of the sandbox's own network
namespace, which the host cannot reach. A unix socket in the shared work area can be reached
from both sides, so this relay runs inside next to the service, and the host bridges a TCP
listener of its own to the socket. The host side imports `splice` from here too.
"""

import asyncio
import contextlib
import os
import socket
import sys
from pathlib import Path

CHUNK_BYTES = 65536


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


async def serve(listener: socket.socket, port: int) -> None:
    """Forward every connection on `listener` (a listening unix socket) until killed."""

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            peer_reader, peer_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()  # not listening (yet): the caller sees the connection close
            return
        await splice(reader, writer, peer_reader, peer_writer)

    server = await asyncio.start_unix_server(forward, sock=listener)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    """`relay.py <unix-socket-path> <port> [-- service argv...]`: with a service, the relay
    forks into the background once it listens and the service replaces this process, so the
    service keeps its pid, output and exit status, and is reachable from its first instant."""
    split = argv.index("--") if "--" in argv else len(argv)
    args, service = argv[:split], argv[split + 1 :]
    if len(args) != 2 or not args[1].isdigit():
        print("usage: relay.py <unix-socket-path> <port> [-- service argv...]", file=sys.stderr)
        return 2
    path = Path(args[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # left by an earlier service on this port
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # close-on-exec by default
    listener.bind(str(path))
    listener.listen(128)
    if service and os.fork() != 0:
        listener.close()
        try:
            os.execvp(service[0], service)  # noqa: S606 - the argv as given, no shell
        except OSError as exc:
            print(f"relay: cannot run {service[0]!r}: {exc.strerror}", file=sys.stderr)
            return 127
    asyncio.run(serve(listener, int(args[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
