"""Cost of the browser evaluation: the warm browser's launch, an evaluation per page, and the
browser's memory.

A small page (a heading, a button, a script, an image) served on loopback by a stdlib server
stands in for a preview. The evaluator is the product's own (`PlaywrightEvaluator`, system
Chromium, as uid 65534 when run as root). Timed: the first evaluation (it launches the browser),
then `--runs` evaluations of 1 page and of 5 pages on the warm browser; the per-page cost is the
median of the 5-page runs divided by 5. Memory: the proportional set size (PSS, from
/proc/<pid>/smaps_rollup: shared pages counted once across processes) of every Chromium process
this process started, while idle between evaluations and at its largest during one.
Tracing (every evaluation records a Playwright trace): `--runs` evaluations of 1 page with it and
as many without (a second warm browser, tracing off), taken in turn so that both see the same
load, and the size of the trace written.
Run: `.venv/bin/python bench/web_eval.py [--runs N]`.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from codegenapp.domain.artifacts import PAGES_TRACE
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator.playwright import PlaywrightEvaluator
from codegenapp.drivers.evaluator.report import problems
from machine import describe

CHROMIUM = Path("/usr/bin/chromium")
PAGE = (
    b"<!doctype html><html lang=en><head><title>Shop</title></head><body><main>"
    b"<h1>Shop</h1><button>Add to cart</button><img src='/logo.svg' alt='logo'>"
    b"<script src='/app.js'></script></main></body></html>"
)
FILES = {
    "/app.js": (b"document.querySelector('h1').textContent += '!';", "application/javascript"),
    "/logo.svg": (
        b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
        "image/svg+xml",
    ),
}


class Preview(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, kind = FILES.get(self.path.split("?")[0], (PAGE, "text/html"))
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def chromium_pss_mb() -> float:
    """PSS of the Chromium processes descending from this one, in MiB."""
    parents, chromium = {}, []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        ppid = next(line for line in status.splitlines() if line.startswith("PPid:"))
        parents[int(entry.name)] = int(ppid.split()[1])
        if exe.startswith("/usr/lib/chromium/"):
            chromium.append(int(entry.name))
    total_kb = 0
    for pid in chromium:
        ancestor = pid
        while ancestor > 1 and ancestor != os.getpid():
            ancestor = parents.get(ancestor, 0)
        if ancestor != os.getpid():
            continue
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kb += next(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
    return total_kb / 1024


async def timed(
    evaluator: PlaywrightEvaluator, url: str, settings: WebEvalSettings, directory: Path
) -> tuple[float, float]:
    """Seconds for one evaluation, and the largest browser PSS seen meanwhile (MiB)."""
    peak = 0.0

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await asyncio.to_thread(chromium_pss_mb))
            await asyncio.sleep(0.2)  # sampling /proc is not free on a busy machine

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    evaluation = await evaluator.evaluate(url, settings, directory, timeout=120)
    elapsed = time.perf_counter() - started
    sampler.cancel()
    found = problems(evaluation, settings)
    assert not found, found
    return elapsed, peak


async def main(runs: int) -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Preview)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    one = WebEvalSettings(pages=["/"])
    five = WebEvalSettings(pages=["/", "/a", "/b", "/c", "/d"])
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as home:
        state, directory = Path(home) / "state", Path(home) / "artifacts"
        directory.mkdir()
        evaluator = PlaywrightEvaluator(CHROMIUM, state_dir=state, preview_hosts=("127.0.0.1",))
        try:
            first, _ = await timed(evaluator, url, one, directory)
            singles = [await timed(evaluator, url, one, directory) for _ in range(runs)]
            fives = [await timed(evaluator, url, five, directory) for _ in range(runs)]
            idle = chromium_pss_mb()
            traced, untraced, trace_kib = await tracing_cost(evaluator, url, one, Path(home), runs)
        finally:
            await evaluator.close()
    server.shutdown()
    single = statistics.median(seconds for seconds, _ in singles)
    batch = statistics.median(seconds for seconds, _ in fives)
    peak = max(mb for _, mb in singles + fives)
    print(f"\n{'evaluation':<44}{'median':>10}")
    print(f"{'first, 1 page (launches the browser)':<44}{first:>9.2f}s")
    print(f"{f'warm, 1 page ({runs} runs)':<44}{single:>9.2f}s")
    print(f"{f'warm, 5 pages ({runs} runs)':<44}{batch:>9.2f}s")
    print(f"{'per page, warm (5-page median / 5)':<44}{batch / 5:>9.2f}s")
    print(f"{'each page after the first, warm':<44}{(batch - single) / 4:>9.2f}s")
    print(
        f"\nbrowser memory (PSS): {idle:.0f} MiB idle between evaluations, {peak:.0f} MiB at most"
    )
    print(f"ratio first / warm evaluation of 1 page: {first / single:.1f}x")
    print(
        f"\ntracing, warm, 1 page ({runs} runs each, in turn): {traced:.2f}s with, "
        f"{untraced:.2f}s without (median), +{(traced - untraced) * 1000:.0f} ms; "
        f"trace.zip {trace_kib:.0f} KiB"
    )
    return 0


async def tracing_cost(
    traced: PlaywrightEvaluator, url: str, settings: WebEvalSettings, home: Path, runs: int
) -> tuple[float, float, float]:
    """Median seconds of a 1-page evaluation with tracing and without; the trace's KiB."""
    plain = PlaywrightEvaluator(
        CHROMIUM, state_dir=home / "state", preview_hosts=("127.0.0.1",), traces=False
    )
    directory = home / "tracing"
    directory.mkdir()
    with_trace, without, size = [], [], 0
    try:
        await timed(plain, url, settings, directory)  # launches its browser
        for _ in range(runs):
            with_trace.append((await timed(traced, url, settings, directory))[0])
            size = (directory / PAGES_TRACE).stat().st_size
            (directory / PAGES_TRACE).unlink()
            without.append((await timed(plain, url, settings, directory))[0])
            assert not (directory / PAGES_TRACE).exists()
    finally:
        await plain.close()
    return statistics.median(with_trace), statistics.median(without), size / 1024


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    raise SystemExit(asyncio.run(main(parser.parse_args().runs)))
