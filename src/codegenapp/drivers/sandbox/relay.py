"""Relays connections across a sandbox's network boundary; stdlib only, run inside a sandbox.

    python3 -I -S relay.py service <unix-socket> <port> -- <argv...>
        accept on the unix socket, connect to 127.0.0.1:<port> inside (the host reaches a
        service this way: the sandbox's loopback is its own)
    python3 -I -S relay.py egress <port> <unix-socket> -- <argv...>
        accept on 127.0.0.1:<port> inside, connect to the unix socket (a command reaches the
        host's egress proxy this way, as HTTP(S)_PROXY=http://127.0.0.1:<port>)

A bubblewrap sandbox has no network but its own loopback; a unix socket in a directory bound
into it can be reached from both sides. The relay listens first, then forks into the
background and `argv` replaces it, so the command keeps its pid, output and exit status and
finds the relay listening from its first instant. Threads, not asyncio: importing asyncio
alone takes ~70 ms, paid by every command that starts here.
"""

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Callable

CHUNK_BYTES = 65536
BACKLOG = 128
Connector = Callable[[], socket.socket]


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until `source` ends, then pass the end on as a half-close."""
    try:
        while chunk := source.recv(CHUNK_BYTES):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        # A reset on either side ends the exchange both ways.
        for side in (source, sink):
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)


def _pair(client: socket.socket, connect: Connector) -> None:
    try:
        peer = connect()
    except OSError:
        client.close()  # nothing listening (yet): the caller sees the connection close
        return
    back = threading.Thread(target=_pump, args=(peer, client), daemon=True)
    back.start()
    _pump(client, peer)
    back.join()
    client.close()
    peer.close()


def serve(listener: socket.socket, connect: Connector) -> None:
    """Forward every connection on `listener` through a new `connect()`, until killed."""
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_pair, args=(client, connect), daemon=True).start()


def _unix_listener(path: str) -> socket.socket:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # left by an earlier service on this port
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # close-on-exec by default
    listener.bind(path)
    listener.listen(BACKLOG)
    return listener


def _tcp_listener(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(BACKLOG)
    return listener


def _tcp_connector(port: int) -> Connector:
    return lambda: socket.create_connection(("127.0.0.1", port))


def _unix_connector(path: str) -> Connector:
    def connect() -> socket.socket:
        peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            peer.connect(path)
        except OSError:
            peer.close()
            raise
        return peer

    return connect


USAGE = "usage: relay.py service <unix-socket> <port> | egress <port> <unix-socket> [-- argv...]"


def _open_standard_fds() -> None:
    """Give every closed standard descriptor /dev/null (bubblewrap closes standard input after
    reading its arguments from it), so a socket made next never takes fd 0, 1 or 2."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: `fd`


def main(argv: list[str]) -> int:
    _open_standard_fds()
    split = argv.index("--") if "--" in argv else len(argv)
    args, command = argv[:split], argv[split + 1 :]
    if len(args) != 3 or args[0] not in ("service", "egress"):
        print(USAGE, file=sys.stderr)
        return 2
    mode, first, second = args
    if mode == "service" and second.isdigit():
        listener, connect = _unix_listener(first), _tcp_connector(int(second))
    elif mode == "egress" and first.isdigit():
        listener, connect = _tcp_listener(int(first)), _unix_connector(second)
    else:
        print(USAGE, file=sys.stderr)
        return 2
    if command and os.fork() != 0:
        listener.close()
        try:
            os.execvp(command[0], command)  # noqa: S606 - the argv as given, no shell
        except OSError as exc:
            print(f"relay: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
            return 127
    if command:
        # The background relay must not hold the command's output open after it exits.
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    serve(listener, connect)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
