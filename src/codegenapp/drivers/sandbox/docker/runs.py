"""Commands and services in a docker sandbox: each an exec under the wrapper (docker_scripts),
its output decoded as it streams, its whole process tree killed on a timeout, its exit code
read back from Docker."""

import asyncio
import codecs
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from codegenapp.drivers.sandbox import ExecResult, OutputSink
from codegenapp.drivers.sandbox.docker.engine import STDERR, STDOUT, Engine, OutputStream
from codegenapp.drivers.sandbox.docker.objects import ContainerInfo
from codegenapp.drivers.sandbox.docker.scripts import Run, kill_argv, parse_marker, run_argv
from codegenapp.errors import SandboxError, StepTimedOut

USER = "65534:65534"  # nobody: commands never run as the user the lifeline runs as
WORKDIR = "/workspace"
MARKER_BYTES = 256  # the wrapper's first line is shorter; anything longer is output
MARKER_WAIT_S = 10.0
OUTPUT_GRACE_S = 5.0
"""How long to keep reading once a timed-out command was killed (see processes.py)."""
EXIT_WAIT_S = 10.0
KILL_TIMEOUT_S = 30.0
KILLED = 128 + 9


@dataclass(frozen=True, slots=True)
class Command:
    """One command to run in a container: its argv (unwrapped), the environment to add to
    the container's, and the variables Docker adds that it must not see."""

    container: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    unset: tuple[str, ...] = ()


def command_for(
    sandbox: ContainerInfo, argv: Sequence[str], env: Mapping[str, str] | None
) -> Command:
    """`argv` in `sandbox` with its own environment on top of the container's (PATH stays
    the sandbox's), and HOSTNAME gone unless the image or the spec set it (Docker adds it to
    every process)."""
    names = {entry.split("=", 1)[0] for entry in sandbox.env}
    unset = () if "HOSTNAME" in names else ("HOSTNAME",)
    own = {name: value for name, value in (env or {}).items() if name != "PATH"}
    return Command(container=sandbox.id, argv=tuple(argv), env=own, unset=unset)


async def run(
    engine: Engine, command: Command, *, on_output: OutputSink, timeout: float
) -> ExecResult:
    """Run `command` to its end, streaming its output; on timeout kill its whole tree and
    raise `StepTimedOut`. Its background processes never outlive it (the wrapper kills them)."""
    started = time.monotonic()
    exec_id = await engine.create_exec(
        command.container,
        run_argv(command.argv, unset=command.unset),
        user=USER,
        workdir=WORKDIR,
        env=command.env,
    )
    async with engine.exec_output(exec_id) as stream:
        marker: asyncio.Future[Run | None] = asyncio.get_running_loop().create_future()
        reader = asyncio.create_task(pump(stream, on_output, marker))
        try:
            done, _ = await asyncio.wait({reader}, timeout=timeout)
            if not done:
                raise StepTimedOut(f"the command outlived its {timeout:g} s timeout; killed")
            reader.result()  # a failing sink
        except BaseException:
            await asyncio.shield(_end(engine, command.container, marker, reader))
            raise
    code = await exit_code(engine, exec_id, wait=True)
    return ExecResult(
        exit_code=KILLED if code is None else code, duration_s=time.monotonic() - started
    )


async def start(
    engine: Engine, command: Command, *, port: int, on_output: OutputSink
) -> tuple[str, asyncio.Task[None]]:
    """Start `command` as the service on `port`; return its exec id and the task that
    streams its output until it ends (cancel it to stop listening)."""
    exec_id = await engine.create_exec(
        command.container,
        run_argv(command.argv, service_port=port, unset=command.unset),
        user=USER,
        workdir=WORKDIR,
        env=command.env,
    )
    stream = engine.exec_output(exec_id)
    await stream.open()

    async def watch() -> None:
        marker: asyncio.Future[Run | None] = asyncio.get_running_loop().create_future()
        try:
            await pump(stream, on_output, marker)
        finally:
            await stream.close()

    return exec_id, asyncio.create_task(watch())


async def exit_code(engine: Engine, exec_id: str, *, wait: bool = False) -> int | None:
    """The exec's exit code; None while it runs, or if Docker forgot it (the container is
    gone, or a finished exec was collected). With `wait`, give Docker a moment to record an
    exit whose output has already ended."""
    deadline = time.monotonic() + (EXIT_WAIT_S if wait else 0.0)
    delay = 0.002
    while True:
        info = await engine.exec_info(exec_id)
        if info is None or not info.running:
            return None if info is None else info.exit_code
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


async def pump(
    stream: OutputStream, on_output: OutputSink, marker: asyncio.Future[Run | None]
) -> None:
    """Pass the exec's output to `on_output` as text (each stream decoded on its own, so a
    character split across chunks arrives whole), after taking the wrapper's first line out
    into `marker`."""
    decoders = {
        kind: codecs.getincrementaldecoder("utf-8")(errors="replace") for kind in (STDOUT, STDERR)
    }
    head = b""
    try:
        while (message := await stream.read()) is not None:
            kind, data = message
            if kind == STDOUT and not marker.done():
                head += data
                line, newline, rest = head.partition(b"\n")
                if not newline and len(head) < MARKER_BYTES:
                    continue
                run = parse_marker(line) if newline else None
                marker.set_result(run)
                data = rest if run is not None else head
            if text := decoders.get(kind, decoders[STDOUT]).decode(data):
                await on_output(text)
        if not marker.done():
            marker.set_result(None)
            if text := decoders[STDOUT].decode(head):
                await on_output(text)
        for decoder in decoders.values():
            if tail := decoder.decode(b"", final=True):
                await on_output(tail)
    finally:
        if not marker.done():
            marker.set_result(None)


async def _end(
    engine: Engine, container: str, marker: asyncio.Future[Run | None], reader: asyncio.Task[None]
) -> None:
    """Kill what is left of a run that is being abandoned, and stop listening to it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(marker), MARKER_WAIT_S)
    run = marker.result() if marker.done() else None
    if run is not None:
        with contextlib.suppress(SandboxError):  # the sandbox is gone, and the run with it
            await kill(engine, container, run)
    await asyncio.wait({reader}, timeout=OUTPUT_GRACE_S)
    if not reader.done():
        reader.cancel()
    elif not reader.cancelled():
        reader.exception()  # raised already where it mattered


async def kill(engine: Engine, container: str, run: Run) -> None:
    """Kill `run`'s whole tree from another exec, and wait for that to finish."""
    await call(engine, container, kill_argv(run), timeout=KILL_TIMEOUT_S)


async def call(
    engine: Engine, container: str, argv: Sequence[str], *, user: str = USER, timeout: float = 60.0
) -> tuple[int | None, str]:
    """Run one of our own short commands (not the project's) to its end: its exit code and
    its output. Raise `SandboxError` if it outlives `timeout`."""
    exec_id = await engine.create_exec(container, argv, user=user)
    output = b""
    try:
        async with asyncio.timeout(timeout), engine.exec_output(exec_id) as stream:
            while (message := await stream.read()) is not None:
                output += message[1]
    except TimeoutError:
        raise SandboxError(f"{argv[0]} in {container} took over {timeout:g} s") from None
    code = await exit_code(engine, exec_id, wait=True)
    return code, output.decode(errors="replace")
