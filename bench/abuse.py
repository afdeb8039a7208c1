"""How the API holds up under abuse, against a real `codegenapp serve` on this machine.

1. `/health` while 20 connections send malformed requests as fast as they can (target: every
   answer within 100 ms).
2. API calls (`GET /api/v1/projects`) while 1,000 WebSocket clients connect at once and catch
   up from the first event (measured before this was bounded: the next API call took 2.1-2.3 s;
   target: p95 under 250 ms).

Each figure is printed beside the same measurement on the idle server, in the same run. The
load comes from other processes, so that the measuring client's own loop is not the one that
is busy. Run: `make bench` (or `.venv/bin/python bench/abuse.py`).
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from machine import describe
from served import served

TOKEN = "bench-token-" + "x" * 24
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
MALFORMED = [
    ("POST", "/api/v1/projects", b"{not json", {"Content-Type": "application/json"}),
    ("POST", "/api/v1/agent-runs", b'{"project_id": 1e400, "goal": "x"}', {}),
    ("GET", f"/api/v1/projects/{2**64}", b"", {}),
    ("GET", "/api/v1/events?since=-5", b"", {}),
    ("POST", "/api/v1/projects", b'{"name": "\\ud800"}', {"Content-Type": "application/json"}),
    ("PUT", "/api/v1/projects/1", b"[" * 50_000, {"Content-Type": "application/json"}),
    ("DELETE", "/api/v1/agent-runs", b"", {}),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"median {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms   "
        f"max {max(ms):7.1f} ms   (n={len(ms)})"
    )


async def timed_calls(
    url: str, path: str, *, seconds: float, headers: dict[str, str]
) -> list[float]:
    """One call after another for `seconds`, each on a fresh connection (as a new client)."""
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            started = time.monotonic()
            response = await client.get(path)
            times.append(time.monotonic() - started)
            assert response.status_code == 200, response.text
        await asyncio.sleep(0.02)
    return times


# --- the load, run in child processes -----------------------------------------------------


async def malformed_storm(url: str, connections: int, seconds: float) -> None:
    """Raw requests over kept-alive connections: a cheap client, so that the server, not
    the storm's own CPU, is what the measurement sees."""
    host, port = url.removeprefix("http://").split(":")
    requests = []
    for method, path, body, headers in MALFORMED:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {TOKEN}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        requests.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    counts = {"5xx": 0, "4xx": 0}

    async def one_connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        deadline = time.monotonic() + seconds
        n = offset
        while time.monotonic() < deadline:
            writer.write(requests[n % len(requests)])
            n += 1
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            counts["5xx" if status >= 500 else "4xx"] += 1
        writer.close()

    await asyncio.gather(*(one_connection(n) for n in range(connections)))
    print(f"{counts['4xx']} refused with a 4xx, {counts['5xx']} answered 5xx", flush=True)


async def websocket_storm(url: str, clients: int) -> None:
    import websockets

    ws_url = url.replace("http://", "ws://") + f"/ws?token={TOKEN}&since=0"
    caught_up = 0

    async def one_client() -> None:
        nonlocal caught_up
        async with websockets.connect(ws_url, open_timeout=120, max_queue=None) as ws:
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 120))
                if event["type"] == "project_updated" and event["data"].get("name") == "last":
                    caught_up += 1
                    return

    started = time.monotonic()
    results = await asyncio.gather(*(one_client() for _ in range(clients)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    print(
        f"{caught_up} of {clients} clients caught up in {time.monotonic() - started:.1f} s"
        f"{f'; {len(failed)} failed: {failed[0]!r}' if failed else ''}",
        flush=True,
    )


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# --- the measurement -----------------------------------------------------------------------


def make_repository(root: Path) -> Path:
    repo = root / "repo"
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "app.py").write_text("print('hi')\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return repo


async def seed(url: str, repo: Path, events: int) -> None:
    """A project and `events` events in the table, the last one named "last"."""
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=30) as client:
        body = {"name": "p", "repository": str(repo), "agent": {"recipe": "- reply: hi\n"}}
        project = (await client.post("/api/v1/projects", json=body)).json()
        for n in range(events - 2):
            await client.put(f"/api/v1/projects/{project['id']}", json={"name": f"p{n}"})
        await client.put(f"/api/v1/projects/{project['id']}", json={"name": "last"})


def verdict(passed: bool, text: str, during: list[float], idle: list[float]) -> str:
    ratio = statistics.median(during) / statistics.median(idle)
    return f"  {'PASS' if passed else 'FAIL'}: {text}; ratio storm/idle median {ratio:.1f}x"


async def measure(url: str, repo: Path, clients: int, seconds: float) -> None:
    await seed(url, repo, events=1000)

    idle = await timed_calls(url, "/health", seconds=seconds, headers={})
    storm = child("--malformed", url, str(seconds + 1))
    await asyncio.sleep(0.5)
    during = await timed_calls(url, "/health", seconds=seconds, headers={})
    storm_out, _ = await asyncio.to_thread(storm.communicate, timeout=120)
    print("\n/health, 20 connections sending malformed requests meanwhile:")
    print(f"  idle     {summary(idle)}")
    print(f"  storm    {summary(during)}   storm: {storm_out.strip()}")
    slowest = max(during)
    text = f"slowest /health answer {slowest * 1000:.1f} ms (target < 100 ms)"
    print(verdict(slowest < 0.1, text, during, idle))

    idle = await timed_calls(url, "/api/v1/projects", seconds=seconds, headers=HEADERS)
    reconnect = child("--websockets", url, str(clients))
    await asyncio.sleep(0.3)
    during = await timed_calls(url, "/api/v1/projects", seconds=seconds, headers=HEADERS)
    ws_out, _ = await asyncio.to_thread(reconnect.communicate, timeout=900)
    print(f"\nGET /api/v1/projects, {clients} WebSocket clients catching up meanwhile:")
    print(f"  idle     {summary(idle)}")
    print(f"  storm    {summary(during)}   storm: {ws_out.strip()}")
    p95 = percentile(during, 0.95)
    print(verdict(p95 < 0.25, f"p95 {p95 * 1000:.1f} ms (target < 250 ms)", during, idle))


def run(clients: int, seconds: float) -> None:
    """A real server in a fresh home, measured, stopped."""
    print(f"abuse benchmark on {describe()}")
    with tempfile.TemporaryDirectory(prefix="codegenapp-bench-abuse-") as tmp:
        work = Path(tmp)
        repo = make_repository(work)
        env = {
            "CODEGENAPP_HOME": str(work / "home"),
            "CODEGENAPP_ADMIN_TOKEN": TOKEN,
            "CODEGENAPP_REPOSITORY_ROOTS": str(work),
        }
        with served(env) as url:
            asyncio.run(measure(url, repo, clients, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--malformed", nargs=2, metavar=("URL", "SECONDS"), help=argparse.SUPPRESS)
    parser.add_argument("--websockets", nargs=2, metavar=("URL", "CLIENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.malformed:
        asyncio.run(malformed_storm(args.malformed[0], 20, float(args.malformed[1])))
    elif args.websockets:
        asyncio.run(websocket_storm(args.websockets[0], int(args.websockets[1])))
    else:
        run(args.clients, args.seconds)


if __name__ == "__main__":
    main()
