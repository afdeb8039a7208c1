"""Host-process plumbing shared by the sandbox drivers: start, stream output, kill whole trees."""

import asyncio
import codecs
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers.sandbox import OutputSink, ResourceLimits
from codegenapp.errors import SandboxError, SandboxUnavailable

BUFFER_BYTES = 1024 * 1024
"""Output read but not yet passed on; above it, reading pauses until the sink catches up."""
OUTPUT_GRACE_S = 5.0
"""How long to keep reading after a command's processes were killed. Only a process that left
its session and its parent behind can hold the pipe longer; we stop listening to it then."""

KILL_WAIT_S = 10.0
"""How long `kill_tree` waits for killed processes to exit (only one stuck in the kernel
takes longer)."""
STOP_ROUNDS = 100

EXIT_CODE_LOST = -1
"""A process ended, but whoever saw its status went away before recording it."""


@dataclass(frozen=True, slots=True)
class Command:
    """One host process to start: the full environment it gets, nothing inherited. `stdin`,
    when given, is what the process reads on its standard input (through a memory file that
    only it holds), else it reads nothing."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    stdin: bytes | None = None


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """A process as stored on disk; `started` tells it apart from a later one with its pid."""

    pid: int
    started: int


SETPRIV = "/usr/bin/setpriv"
_TETHER = (
    'test "$PPID" = "$1" || exit 125; shift; '
    'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"'
)


def tethered(command: Sequence[str], *, join: Sequence[str] = ()) -> list[str]:
    """`command`, started so that it dies with this process, and in the cgroups whose
    `cgroup.procs` files `join` names before it runs anything.

    The kernel sends SIGKILL on the death of the parent (PR_SET_PDEATHSIG, set by setpriv and
    kept across exec) only if it is set while the parent lives: the shell checks that its
    parent is still us *after* setpriv set it, closing the window in which a worker killed
    just after forking would leave a command running. bubblewrap's --die-with-parent then
    carries the signal into the sandbox's own process tree.
    """
    script = ["/bin/sh", "-c", _TETHER, "sh", str(os.getpid()), *join, "--"]
    return [SETPRIV, "--pdeathsig", "KILL", "--", *script, *command]


def limits_argv(
    prlimit: str, limits: ResourceLimits, *, count_processes: bool, address_space: bool = True
) -> list[str]:
    """The `prlimit` prefix that applies `limits` to the command after it (soft = hard).

    RLIMIT_NPROC counts every process of the host user, so it is only worth setting where that
    user is private to the sandbox (a user namespace); the kernel never applies it to root.
    RLIMIT_AS stands in for a memory cgroup where there is none (`address_space`); it is a
    blunt one: runtimes that reserve address space up front (V8, the JVM) need headroom.
    """
    mib = 1024 * 1024
    argv = [prlimit]
    if address_space:
        argv.append(f"--as={limits.memory_mb * mib}")
    argv += [f"--fsize={limits.file_size_mb * mib}", f"--nofile={limits.open_files}"]
    if count_processes:
        argv.append(f"--nproc={limits.pids}")
    return [*argv, "--"]


class Child(asyncio.SubprocessProtocol):
    """A host process we started: its merged output as a queue of chunks, and its exit.

    asyncio's own `Process.wait()` returns only once every holder of the output pipe has
    closed it, so a background child would hold up the news of the exit; the protocol's
    `process_exited` is told at once.
    """

    def __init__(self) -> None:
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()  # b"" marks the end of output
        self._buffered = 0
        self._transport: asyncio.SubprocessTransport | None = None

    @property
    def pid(self) -> int:
        return self._subprocess().get_pid()

    @property
    def returncode(self) -> int | None:
        """asyncio's code: -N when killed by signal N; None until the exit is known."""
        return self._subprocess().get_returncode()

    async def read(self) -> bytes:
        """The next chunk of output; b"" once every writer has closed the pipe."""
        chunk = await self._chunks.get()
        self._buffered -= len(chunk)
        if self._buffered < BUFFER_BYTES // 2 and (pipe := self._pipe()) is not None:
            pipe.resume_reading()
        return chunk

    def close(self) -> None:
        """Stop listening to the output (call it once the process has exited)."""
        self._subprocess().close()
        self._chunks.put_nowait(b"")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self._transport = transport

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        assert isinstance(data, bytes)
        self._chunks.put_nowait(data)
        self._buffered += len(data)
        # A slow sink must not make us buffer without bound.
        if self._buffered > BUFFER_BYTES and (pipe := self._pipe()) is not None:
            pipe.pause_reading()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._chunks.put_nowait(b"")

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def _subprocess(self) -> asyncio.SubprocessTransport:
        assert self._transport is not None, "connection_made runs before spawn() returns"
        return self._transport

    def _pipe(self) -> asyncio.ReadTransport | None:
        pipe = self._subprocess().get_pipe_transport(1)
        return pipe if isinstance(pipe, asyncio.ReadTransport) else None


async def spawn(command: Command) -> Child:
    """Start `command` in a new session (its pid is its process group), stdout and stderr
    merged into one pipe. Raise `SandboxUnavailable` if the launcher itself is missing."""
    loop = asyncio.get_running_loop()
    stdin = memory_file(command.stdin) if command.stdin is not None else subprocess.DEVNULL
    try:
        _, child = await loop.subprocess_exec(
            Child,
            *command.argv,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(command.env),
            cwd=command.cwd,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise SandboxUnavailable(f"cannot start {command.argv[0]!r}: {exc.strerror}") from exc
    except OSError as exc:
        raise SandboxError(f"cannot start {command.argv[0]!r}: {exc}") from exc
    finally:
        if stdin is not subprocess.DEVNULL:
            os.close(stdin)  # the child has its own copy
    return child


def memory_file(data: bytes) -> int:
    """A descriptor of an anonymous in-memory file holding `data`, read from its start. It has
    no name anywhere: only a process given the descriptor can read it."""
    fd = os.memfd_create("codegenapp-input", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


async def supervise(child: Child, on_output: OutputSink, *, timeout: float | None) -> int:
    """Stream `child`'s output to `on_output` until it exits; return its exit code (128+N
    when killed by signal N, as a shell reports it).

    Whatever way it ends (exit, timeout, a failing sink, cancellation), every process it left
    behind is killed: a command's background children never outlive it. Raise `TimeoutError`
    when `timeout` passes first.
    """
    reader = asyncio.create_task(_pump(child, on_output))
    try:
        async with asyncio.timeout(timeout):
            await _exit_unless_reader_fails(child, reader)
    finally:
        await abandon(child, reader)
    return exit_status(child.returncode)


async def abandon(child: Child, reader: asyncio.Task[None] | None = None) -> None:
    """Kill what is left of `child`'s tree, wait for its exit, let `reader` drain what was
    already written (for a while), then stop listening."""
    await kill_tree(child.pid)
    await child.exited
    if reader is not None:
        await asyncio.wait({reader}, timeout=OUTPUT_GRACE_S)
        if not reader.done():
            reader.cancel()
        elif not reader.cancelled():
            reader.exception()  # supervise already raised it if it mattered; mark it as seen
    child.close()


def exit_status(returncode: int | None) -> int:
    """asyncio's -N for "killed by signal N", as the shell's 128+N."""
    if returncode is None:
        return EXIT_CODE_LOST
    return returncode if returncode >= 0 else 128 - returncode


async def _pump(child: Child, on_output: OutputSink) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := await child.read():
        if text := decoder.decode(chunk):
            await on_output(text)
    if tail := decoder.decode(b"", final=True):
        await on_output(tail)


async def _exit_unless_reader_fails(child: Child, reader: asyncio.Task[None]) -> None:
    # The reader may also end cleanly before the exit (the command closed its stdout).
    while not child.exited.done():
        watched: set[asyncio.Future[None]] = {child.exited}
        if not reader.done():
            watched.add(reader)
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        if reader.done() and (failure := reader.exception()) is not None:
            raise failure


async def kill_tree(pid: int) -> None:
    """SIGKILL `pid`, its process group and every descendant, even those that moved to a
    session of their own; return once they have all exited (or after `KILL_WAIT_S`).

    The tree is stopped first, so nothing in it can fork a child we would not see. For a
    bubblewrap sandbox `pid` is bwrap, whose death alone tears down its pid namespace.
    """
    tree = _stop_tree(pid)
    exits = [_pidfd(member) for member in tree]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for member in tree:
        _signal(member, signal.SIGKILL)
    await _until_exited(exits)


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


async def kill_recorded(record: ProcessRecord) -> None:
    """Kill `record`'s tree, unless its pid now belongs to another process."""
    if is_alive(record):
        await kill_tree(record.pid)


def _stop_tree(pid: int) -> list[int]:
    """SIGSTOP `pid` and its descendants until no new one appears; return them all. Nothing
    to walk once `pid` has exited: its children were handed to init then."""
    stopped: list[int] = []
    if not is_alive(record_of(pid)):
        return stopped
    for _ in range(STOP_ROUNDS):
        fresh = [member for member in (pid, *_descendants(pid)) if member not in stopped]
        if not fresh:
            break
        for member in fresh:
            _signal(member, signal.SIGSTOP)
        stopped += fresh
    return stopped


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except OSError:  # gone already (or a kernel older than 5.3: then we cannot wait)
        return None


async def _until_exited(maybe_pidfds: list[int | None]) -> None:
    # A pidfd turns readable when its process exits, child of ours or not.
    pidfds = [fd for fd in maybe_pidfds if fd is not None]
    loop = asyncio.get_running_loop()
    exits: list[asyncio.Future[None]] = []
    for fd in pidfds:
        exited: asyncio.Future[None] = loop.create_future()
        loop.add_reader(fd, _resolve, exited)
        exits.append(exited)
    try:
        if exits:
            await asyncio.wait(exits, timeout=KILL_WAIT_S)
    finally:
        for fd in pidfds:
            loop.remove_reader(fd)
            os.close(fd)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def record_of(pid: int) -> ProcessRecord:
    """The on-disk identity of a running child `pid`."""
    stat = _stat(pid)
    if stat is None:  # gone already: a record nobody can match
        return ProcessRecord(pid=pid, started=-1)
    return ProcessRecord(pid=pid, started=stat[1])


def is_alive(record: ProcessRecord) -> bool:
    """True while the recorded process runs (not a zombie, and its pid was not reused)."""
    stat = _stat(record.pid)
    return stat is not None and stat[1] == record.started and stat[0] != "Z"


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) from /proc/<pid>/stat."""
    fields = _stat_fields(str(pid))
    return None if fields is None else (fields[0].decode(), int(fields[19]))


def _stat_fields(pid: str) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat from the state letter on, or None if it is gone."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    return raw[raw.rfind(b")") + 2 :].split()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat_fields(name)) is not None:
            children.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    queue = list(children.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(children.get(child, []))
    return found
