"""How fast GitHub hears back, against a real `codegenapp serve` on this machine.

500 signed deliveries of GitHub's own `pull_request.opened` payload, one after another as GitHub
sends them (each on a new connection), each a new delivery id: the time to the 2xx (target in
issue 8: p99 under 50 ms), beside `/health` on the same server in the same run (the floor any
route has), and the time from sending a delivery to its processing being recorded (its
`webhook_processed` event). Processing a delivery for a repository no project has stops at the
lookup, so that figure is the dispatch delay alone, not yet the delay to a validation's first
step: that comes with GitHub projects. Run: `make bench` (or `.venv/bin/python bench/webhooks.py`).
"""

import argparse
import asyncio
import hashlib
import hmac
import os
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import psycopg

from abuse import percentile
from machine import describe
from served import served
from validation_overhead import PG_ADMIN

TOKEN = "bench-token-" + "x" * 24
SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway for this run
PAYLOAD = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/github-webhooks/pull_request/opened.payload.json"
)


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }


def line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"  {name:<22} p50 {statistics.median(ms):6.1f} ms   p99 {percentile(ms, 0.99):6.1f} ms"
        f"   max {max(ms):6.1f} ms   (n={len(ms)})"
    )


async def one_call(url: str, method: str, path: str, **kwargs: object) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        started = time.perf_counter()
        response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
    assert response.status_code in (200, 202), response.text
    return elapsed


async def processing_delays(url: str, sent_at: dict[str, float], timeout: float) -> list[float]:
    """Per delivery: its `webhook_processed` event's time minus the time it was sent."""
    delays: dict[str, float] = {}
    since = 0
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as client:
        while len(delays) < len(sent_at) and time.monotonic() < deadline:
            page = (await client.get("/api/v1/events", params={"since": since})).json()
            for event in page:
                since = max(since, event["id"])
                delivery = event["data"].get("delivery_id")
                if event["type"] == "webhook_processed" and delivery in sent_at:
                    done = datetime.fromisoformat(event["ts"]).timestamp()
                    delays[delivery] = done - sent_at[delivery]
            if not page:
                await asyncio.sleep(0.1)
    assert len(delays) == len(sent_at), f"{len(sent_at) - len(delays)} deliveries unprocessed"
    return list(delays.values())


async def measure(url: str, deliveries: int) -> None:
    body = PAYLOAD.read_bytes()
    for _ in range(20):  # warm up both routes
        await one_call(url, "GET", "/health")
        await one_call(url, "POST", "/api/v1/webhooks/github", content=body, headers=signed(body))
    health, acks, sent_at = [], [], {}
    for _ in range(deliveries):
        health.append(await one_call(url, "GET", "/health"))
        headers = signed(body)
        sent_at[headers["X-GitHub-Delivery"]] = time.time()
        acks.append(
            await one_call(url, "POST", "/api/v1/webhooks/github", content=body, headers=headers)
        )
    delays = await processing_delays(url, sent_at, timeout=300)
    print(f"\n{deliveries} signed deliveries ({len(body)} bytes each), one after another:")
    print(line("GET /health", health))
    print(line("webhook acknowledged", acks))
    print(line("delivery → processed", delays))
    p99 = percentile(acks, 0.99)
    ratio = statistics.median(acks) / statistics.median(health)
    verdict = "MET" if p99 < 0.05 else "MISSED"
    print(f"  acknowledgement p99 {p99 * 1000:.1f} ms (target < 50 ms): {verdict}")
    print(f"  acknowledgement p50 is {ratio:.1f}× /health's on the same server")


def run(deliveries: int, database_url: str | None) -> None:
    print(f"webhook benchmark on {describe()}")
    print(f"database: {'PostgreSQL' if database_url else 'SQLite'}")
    with tempfile.TemporaryDirectory(prefix="codegenapp-bench-webhooks-") as tmp:
        env = {
            "CODEGENAPP_HOME": str(Path(tmp) / "home"),
            "CODEGENAPP_ADMIN_TOKEN": TOKEN,
            "GITHUB_WEBHOOK_SECRET": SECRET,
            **({"DATABASE_URL": database_url} if database_url else {}),
        }
        with served(env) as url:
            asyncio.run(measure(url, deliveries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument(
        "--postgres", action="store_true", help="on a PostgreSQL database of its own (else SQLite)"
    )
    args = parser.parse_args()
    if not args.postgres:
        run(args.deliveries, None)
        return
    name = f"codegenapp_bench_webhooks_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        run(args.deliveries, f"postgresql://postgres@127.0.0.1:5432/{name}")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
