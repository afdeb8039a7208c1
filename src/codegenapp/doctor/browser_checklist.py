"""The isolation checklist of the evaluating browser: a preview page that does what a hostile
pull request's page would (reach another port on loopback, a name outside, a host file), opened
by the same evaluator as `web_eval`, with what it could reach set up here (a listener on
loopback, a canary file anyone may read). `codegenapp doctor --isolation` prints one line per
probe, as for the sandboxes; docs/adr/0014-browser-isolation.md says why each holds.
"""

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from codegenapp.doctor.checklist import Probe
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator import Evaluation
from codegenapp.drivers.evaluator.playwright import PlaywrightEvaluator
from codegenapp.settings import Settings

EVALUATION_TIMEOUT_S = 60.0
SETTLE_S = 0.5  # for a connection the page set off to arrive at the listener, if it could
UNPRIVILEGED = 65534  # the browser's user when the worker is root (ADR 0014)


async def run_browser_checklist(settings: Settings) -> list[Probe]:
    """Every probe against the evaluating browser, started with `settings` (give it a home of
    its own); raises `EvaluatorUnavailable` if the browser cannot run here."""
    canary = secrets.token_hex(16)
    connections: list[int] = []
    with tempfile.TemporaryDirectory(prefix="codegenapp-canary-") as directory:
        canary_file = await asyncio.to_thread(_plant_canary, Path(directory), canary)
        async with _listener(connections) as port:
            page = _hostile_page(port, canary_file)
            async with _preview(page) as base_url:
                evaluator = PlaywrightEvaluator(
                    settings.chromium, state_dir=settings.state_dir, preview_hosts=("127.0.0.1",)
                )
                try:
                    evaluation = await _evaluate(evaluator, base_url, Path(directory))
                    browsers = _browser_processes()
                finally:
                    await evaluator.close()
            await asyncio.sleep(SETTLE_S)
        return [
            _reach_the_host(port, connections, evaluation),
            _reach_outside(evaluation),
            _read_a_host_file(canary, evaluation, Path(directory) / "artifacts"),
            _privileges(browsers),
        ]


def _plant_canary(directory: Path, canary: str) -> Path:
    """A file any user may read (the browser's own user too): what stops it is the page."""
    canary_file = directory / "canary.txt"
    canary_file.write_text(canary)
    canary_file.chmod(0o644)
    directory.chmod(0o755)
    return canary_file


async def _evaluate(evaluator: PlaywrightEvaluator, base_url: str, directory: Path) -> Evaluation:
    artifacts = directory / "artifacts"
    artifacts.mkdir()
    return await evaluator.evaluate(
        base_url, WebEvalSettings(pages=["/"]), artifacts, timeout=EVALUATION_TIMEOUT_S
    )


def _hostile_page(port: int, canary_file: Path) -> str:
    other = f"http://127.0.0.1:{port}"
    return f"""<html><head><title>probe</title><link rel=preconnect href="{other}"></head>
<body><h1>probe</h1><img src="{other}/pixel.png" alt="pixel">
<iframe src="file://{canary_file}"></iframe><p id=out>waiting</p>
<script>
const quiet = () => "blocked";
const socket = new WebSocket("ws://127.0.0.1:{port}/ws"); socket.onerror = quiet;
navigator.sendBeacon("{other}/beacon", "x");
Promise.all([
  fetch("{other}/steal").then(r => r.text()).catch(quiet),
  fetch("file://{canary_file}").then(r => r.text()).catch(quiet),
  fetch("http://example.com/collect").then(() => "reached").catch(quiet),
]).then(seen => {{ document.getElementById("out").textContent = "seen " + seen.join(" "); }});
</script></body></html>"""


@contextlib.asynccontextmanager
async def _listener(connections: list[int]) -> AsyncIterator[int]:
    """A port on loopback that counts who connects: our API or database, as a page sees it."""

    async def record(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def _preview(page: str) -> AsyncIterator[str]:
    """A preview that answers `page` to every request, as a deployed app would."""
    body = page.encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def _blocked(evaluation: Evaluation) -> set[str]:
    return {item.url for page in evaluation.pages for item in page.seen.blocked_requests}


def _reach_the_host(port: int, connections: list[int], evaluation: Evaluation) -> Probe:
    name = "reach the host"
    if connections:
        return Probe(name, False, f"a page connected to 127.0.0.1:{port} ({len(connections)}×)")
    blocked = len([url for url in _blocked(evaluation) if f":{port}/" in url])
    return Probe(
        name, True, f"no connection reached 127.0.0.1:{port}; {blocked} requests to it refused"
    )


def _reach_outside(evaluation: Evaluation) -> Probe:
    name = "reach another origin"
    texts = " ".join(page.text for page in evaluation.pages)
    if "reached" in texts:
        return Probe(name, False, "a fetch to http://example.com answered")
    refused = "http://example.com/collect" in _blocked(evaluation)
    return Probe(
        name, True, "http://example.com was refused before it was sent" if refused else "no answer"
    )


def _read_a_host_file(canary: str, evaluation: Evaluation, artifacts: Path) -> Probe:
    name = "read a host file"
    kept = [path.read_text(errors="replace") for path in artifacts.rglob("*.txt")]
    seen = " ".join([*(page.text for page in evaluation.pages), *kept])
    if canary in seen:
        return Probe(name, False, "a page read a file:// URL of this host")
    return Probe(name, True, "file:// URLs of this host show nothing to a page")


def _privileges(browsers: list[tuple[int, str]]) -> Probe:
    name = "browser privileges"
    if not browsers:
        return Probe(name, False, "no Chromium process of this evaluation was found to check")
    expected = UNPRIVILEGED if os.geteuid() == 0 else os.geteuid()
    uids = {uid for uid, _ in browsers}
    if uids != {expected}:
        return Probe(name, False, f"Chromium runs as uid {sorted(uids)}, expected {expected}")
    if any("--no-sandbox" in args for _, args in browsers):
        return Probe(name, False, "Chromium runs with its own sandbox off (--no-sandbox)")
    return Probe(name, True, f"Chromium runs as uid {expected}, its own sandbox on")


def _browser_processes() -> list[tuple[int, str]]:
    """(uid, command line) of the Chromium processes that descend from this process."""
    parents: dict[int, int] = {}
    found: list[tuple[int, int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            exe = os.readlink(entry / "exe")
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile, or is not ours to read
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields["PPid"])
        if "chromium" in Path(exe).name or "chrome" in Path(exe).name:
            found.append((int(entry.name), int(fields["Uid"].split()[1]), args))
    me = os.getpid()
    return [(uid, args) for pid, uid, args in found if _descends(pid, me, parents)]


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid > 1:
        pid = parents.get(pid, 0)
        if pid == ancestor:
            return True
    return False
