"""Real `codegenapp` processes for end-to-end tests: started, awaited until ready, stopped."""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def codegenapp(
    *args: str, env: dict[str, str], ready: str, timeout: float = 60
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `codegenapp <args>` until the block ends; ready once it prints a line starting
    with `ready`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codegenapp.cli",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout)).decode()
        seen.append(line)
        if not line:
            raise AssertionError(f"codegenapp {' '.join(args)} exited early:\n" + "".join(seen))
        if line.startswith(ready):
            break
    try:
        yield process
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
