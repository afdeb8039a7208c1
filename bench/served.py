"""A real `codegenapp serve` for a benchmark: started in its own process with the given
environment, ready once it says so, stopped at the end."""

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def served(env: Mapping[str, str]) -> Iterator[str]:
    """The server's base URL, for as long as the block lasts; `env` adds to this process's."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "codegenapp.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("Ready on"):
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=30)
