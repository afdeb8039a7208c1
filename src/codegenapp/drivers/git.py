"""The one async git runner the drivers share: bounded in time, hooks off, a fixed identity."""

import asyncio
import contextlib
import os
import signal
import weakref
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegenapp.errors import ForgeError

DEFAULT_TIMEOUT_SECONDS = 60.0
COMMITTER_NAME = "CodegenApp"
COMMITTER_EMAIL = "codegenapp@localhost"

# Settings that make git behave the same on every machine: no hooks from the repository
# (they are code we did not choose to run), no gpg prompt, and no automatic maintenance (a
# background `gc` started by a fetch or merge would hold our pipes open and delay the answer).
_FIXED_OPTIONS = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "maintenance.auto=false",
)
_STDERR_LIMIT = 4000
MAX_CONCURRENT = 16
"""git processes at once, per event loop: a flood of requests that each run git (project
checks, snapshots) waits its turn instead of forking without bound."""
_SLOTS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
    weakref.WeakKeyDictionary()
)


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(MAX_CONCURRENT)
    return slots


@dataclass(frozen=True, slots=True)
class GitResult:
    exit_code: int
    stdout: bytes
    stderr: str
    overflowed: bool = False
    """git wrote more than the caller's `max_stdout`: it was killed, `stdout` is empty."""

    @property
    def text(self) -> str:
        """Standard output decoded, without its trailing newline."""
        return self.stdout.decode("utf-8", errors="replace").rstrip("\n")


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment: the user's global and system git config are ignored, so their
    aliases, signing keys or identity can never change what we write."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LC_ALL": "C",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": COMMITTER_NAME,
        "GIT_AUTHOR_EMAIL": COMMITTER_EMAIL,
        "GIT_COMMITTER_NAME": COMMITTER_NAME,
        "GIT_COMMITTER_EMAIL": COMMITTER_EMAIL,
    }
    env.update(extra)
    return env


def _describe(argv: Sequence[str]) -> str:
    return "git " + " ".join(argv[:3]) + (" …" if len(argv) > 3 else "")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Kill the whole process group: `git fetch` leaves an `upload-pack` child behind."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def _spawn(
    argv: Sequence[str], *, cwd: Path | str | None, env: Mapping[str, str] | None, stdin: bool
) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            "git",
            *_FIXED_OPTIONS,
            *argv,
            cwd=cwd,
            env=_environment(env or {}),
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group, so a timeout can kill git's children with it.
            start_new_session=True,
        )
    except OSError as error:
        # No git on PATH, or `cwd` is not a directory: say which, as a forge failure.
        raise ForgeError(f"{_describe(argv)} could not start in {cwd}: {error}") from None


async def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    accept: Collection[int] | None = (0,),
    max_stdout: int | None = None,
) -> GitResult:
    """Run `git <argv>` in `cwd` and return its result.

    Raise `ForgeError` carrying git's stderr if the exit code is not in `accept` (None
    accepts any), or if git outlives `timeout` seconds (it is killed then, as it is if the
    caller is cancelled). With `max_stdout`, git is killed as soon as it writes more than that
    many bytes, and the result says `overflowed` (whatever its exit code) with no output.
    """
    async with _slots():
        process = await _spawn(argv, cwd=cwd, env=env, stdin=stdin is not None)
        try:
            talk = (
                process.communicate(stdin)
                if max_stdout is None
                else _communicate_bounded(process, stdin, max_stdout)
            )
            stdout, stderr = await asyncio.wait_for(talk, timeout)
        except TimeoutError:
            await _stop(process)
            raise ForgeError(f"{_describe(argv)} did not finish within {timeout:g} s") from None
        except BaseException:
            await _stop(process)
            raise
    exit_code = process.returncode if process.returncode is not None else -1
    overflowed = stdout is None
    result = GitResult(
        exit_code, stdout or b"", stderr.decode("utf-8", errors="replace").strip(), overflowed
    )
    if overflowed:
        return result
    if accept is not None and exit_code not in accept:
        detail = result.stderr[-_STDERR_LIMIT:] or "(no message)"
        raise ForgeError(f"{_describe(argv)} failed (exit {exit_code}): {detail}")
    return result


async def _communicate_bounded(
    process: asyncio.subprocess.Process, stdin: bytes | None, limit: int
) -> tuple[bytes | None, bytes]:
    """`communicate`, but standard output is read only up to `limit` bytes: past that, git is
    killed (its stderr then ends too) and the output is None."""
    assert process.stdout is not None
    assert process.stderr is not None

    async def feed() -> None:
        if process.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if stdin:
                process.stdin.write(stdin)
                await process.stdin.drain()
            process.stdin.close()

    async def read_out() -> bytes | None:
        assert process.stdout is not None
        chunks: list[bytes] = []
        size = 0
        while chunk := await process.stdout.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                await _stop(process)
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    out, err, _ = await asyncio.gather(read_out(), process.stderr.read(), feed())
    await process.wait()
    return out, err


async def output(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> str:
    """Run `git <argv>` like `run` and return its standard output, stripped of the newline."""
    result = await run(argv, cwd=cwd, env=env, stdin=stdin, timeout=timeout)
    return result.text
