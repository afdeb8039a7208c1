"""From a GitHub delivery to its validation's first step, against a real `codegenapp serve` and
the fake GitHub of the tests (loopback only; nothing here reaches GitHub).

Each round pushes a commit to a new branch and opens a pull request on the fake; its
`pull_request.opened` delivery, signed as GitHub signs it, is held back and sent by this
bench, which notes the time it sent it; the server answers, stores it, processes it and
queues the head's validation; the figure is the first step's start (the server's own
timestamp) minus the send time (target in issue 8: p50 under 100 ms). Beside it, in the same
run: the acknowledgement itself. Run: `make bench` (or `.venv/bin/python bench/github_delivery.py`).
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

from abuse import percentile
from machine import describe
from served import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fake GitHub
from tests.fakes.github import FakeGitHub
from tests.support.projects import APP

TOKEN = "bench-token-" + "x" * 24
SECRET = "bench-webhook-secret"  # noqa: S105 - a throwaway for this run
REPO = "acme/app"


def line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"  {name:<30} p50 {statistics.median(ms):6.1f} ms   p90 {percentile(ms, 0.9):6.1f} ms"
        f"   (n={len(ms)})"
    )


async def milestones(api: httpx.AsyncClient, head: str) -> tuple[float, float, float]:
    """The server's times (epoch seconds) the validation of `head` was created, started, and
    started its first step; read once it has ended, so that the next round meets an idle
    server."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = (await api.get("/api/v1/validations", params={"limit": 200})).json()
        for validation in page["items"]:
            first = validation["steps"][0]["started_at"] if validation["steps"] else None
            if validation["head_sha"] == head and first and validation["finished_at"]:
                times = (validation["created_at"], validation["started_at"], first)
                created, started, stepped = (datetime.fromisoformat(t).timestamp() for t in times)
                return created, started, stepped
        await asyncio.sleep(0.05)
    raise AssertionError(f"no validation of {head} ended within 60 s")


async def measure(github: FakeGitHub, url: str, rounds: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as api:
        body = {
            "name": "bench",
            "forge": "github",
            "repository": REPO,
            "agent": {"recipe": "- reply: hi\n"},
            "deployment_settings": {"build_command": "true"},
            "validation_settings": {"validate_base_branch": False, "auto_merge": False},
        }
        project = await api.post("/api/v1/projects", json=body)
        assert project.status_code == 201, project.text
        github.subscribe(f"{url}/api/v1/webhooks/github", SECRET)
        await github.deliveries_sent()
        delays, acks, created_in, started_in, stepped_in = [], [], [], [], []
        for round_ in range(rounds + 2):  # the first two warm up
            head = await github.push(
                REPO, f"b{round_}", {"n.txt": f"{round_}\n"}, f"Round {round_}"
            )
            await github.deliveries_sent()
            github.lose_next_delivery()  # held back: this bench sends it, and times it
            await github.open_pull_request(REPO, f"b{round_}", "main", f"Round {round_}", "bench")
            delivery = github.deliveries[-1]
            assert delivery.lost, delivery
            assert delivery.event == "pull_request", delivery
            async with httpx.AsyncClient(base_url=url, timeout=30) as hook:
                sent = time.time()
                answer = await hook.post(
                    "/api/v1/webhooks/github", content=delivery.body, headers=delivery.headers
                )
                acked = time.time()
            assert answer.status_code == 202, answer.text
            created, started, stepped = await milestones(api, head)
            if round_ >= 2:
                acks.append(acked - sent)
                delays.append(stepped - sent)
                created_in.append(created - sent)
                started_in.append(started - created)
                stepped_in.append(stepped - started)
    print(f"\n{rounds} pull requests opened on the fake GitHub, each delivery sent by the bench:")
    print(line("webhook acknowledged", acks))
    print(line("delivery → first step started", delays))
    print("  of which:")
    print(line("  delivery → validation queued", created_in))
    print(line("  queued → taken by a worker", started_in))
    print(line("  taken → first step started", stepped_in))
    p50 = statistics.median(delays)
    verdict = "MET" if p50 < 0.1 else "MISSED"
    print(f"  delivery → first step p50 {p50 * 1000:.1f} ms (target < 100 ms): {verdict}")


async def run(rounds: int) -> None:
    print(f"GitHub delivery benchmark on {describe()}")
    with tempfile.TemporaryDirectory(prefix="codegenapp-bench-github-") as tmp:
        async with FakeGitHub(Path(tmp)) as github:
            await github.create_repository(REPO, files={"app.py": APP})
            port = free_port()
            env = {
                **os.environ,
                "CODEGENAPP_HOME": str(Path(tmp) / "home"),
                "CODEGENAPP_ADMIN_TOKEN": TOKEN,
                "GITHUB_API_URL": github.api_url,
                "GITHUB_TOKEN": github.personal_token("acme"),
                "GITHUB_WEBHOOK_SECRET": SECRET,
            }
            server = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "codegenapp.cli", "serve", "--port", str(port),
                env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            assert server.stdout is not None
            try:
                while not (printed := await server.stdout.readline()).startswith(b"Ready on"):
                    assert printed, "the server stopped before it was ready"
                # Keep reading what it prints, so that a full pipe never stalls it.
                drain = asyncio.create_task(server.stdout.read())
                await measure(github, f"http://127.0.0.1:{port}", rounds)
            finally:
                server.terminate()
                await server.wait()
            await drain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
