"""A system command (mount, umount, mkfs) runs to its end even when its caller is cancelled,
so that the tear-down that follows a cancellation sees everything it did."""

import asyncio
from pathlib import Path

from codegenapp.drivers.sandbox.quota import run_privileged


async def test_a_cancelled_caller_returns_only_once_the_command_has_ended(tmp_path: Path) -> None:
    done = tmp_path / "mounted"
    started = tmp_path / "started"
    command = asyncio.create_task(
        run_privileged("sh", "-c", f"touch {started}; sleep 0.3; touch {done}")
    )
    while not started.exists():  # the command is under way: cancel the caller now
        await asyncio.sleep(0.01)
    command.cancel()
    try:
        await command
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the caller was not cancelled")
    assert done.exists(), "the caller came back while the command was still running"
