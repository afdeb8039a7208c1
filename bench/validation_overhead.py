"""Orchestration overhead of one validation of a trivial project (every command `true`).

overhead = wall time of the validation workflow (enqueue → verdict, merge included)
           − time spent inside the project's own commands (as the sandbox measured them)

Median of 20 validations per configuration, configurations run one after the other in the
same process on the same machine, so their ratios are comparable. Target: < 300 ms.
Run: `make bench` (or `.venv/bin/python bench/validation_overhead.py [--runs N]`).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
from dbos import DBOS, SetWorkflowID

from codegenapp.db.queries import pull_requests, validations
from codegenapp.domain.project_settings import (
    AgentSettings,
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.drivers.sandbox import ExecResult, OutputSink, Sandbox, SandboxHandle
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import DriverSet, Runtime, bind
from codegenapp.flows.validation import QUEUE, RESULT_POLL_SEC, validation_flow, workflow_id
from codegenapp.main import running
from codegenapp.settings import Settings
from machine import describe

TARGET_MS = 300.0
TRIVIAL = ProjectSettings(
    deployment_settings=DeploymentSettings(build_command="true", deploy_command="true"),
    validation_settings=ValidationSettings(test_command="true", security_command="true"),
)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class TimedSandbox:
    """Delegates to the real sandbox and adds up the time its commands took."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner, self.name, self.isolated = inner, inner.name, inner.isolated
        self.command_seconds = 0.0

    async def exec(
        self, handle: SandboxHandle, argv: Sequence[str], *, on_output: OutputSink, timeout: float
    ) -> ExecResult:
        result = await self.inner.exec(handle, argv, on_output=on_output, timeout=timeout)
        self.command_seconds += result.duration_s
        return result

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@dataclass
class TimedDrivers:
    inner: DriverSet
    sandbox_: TimedSandbox

    def forge(self, repository: str):  # type: ignore[no-untyped-def]
        return self.inner.forge(repository)

    def agent(self, settings: AgentSettings):  # type: ignore[no-untyped-def]
        return self.inner.agent(settings)

    def sandbox(self) -> Sandbox:
        return self.sandbox_  # type: ignore[return-value]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repository(path: Path, branches: int) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README").write_text("bench\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    for n in range(branches):
        git(path, "checkout", "-q", "-b", f"change-{n}", "main")
        (path / f"file-{n}.txt").write_text(f"{n}\n")
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"change {n}")
    git(path, "checkout", "-q", "main")
    return path


async def one_validation(
    runtime: Runtime, timed: TimedSandbox, project_id: int, repo: Path, n: int
) -> tuple[float, float]:
    forge = runtime.drivers.forge(str(repo))
    change = await forge.open_change_request(
        str(repo), head_branch=f"change-{n}", base_branch="main", title=f"change {n}", body=""
    )
    async with runtime.database.transaction() as session:
        pr = await pull_requests.record_pull_request(
            session,
            project_id=project_id,
            agent_run_id=None,
            number=change.number,
            url=change.url,
            title=change.title,
            branch=change.head_branch,
            base_branch="main",
            head_sha=change.head_sha,
        )
        validation = await validations.create_validation(
            session, pull_request=pr, agent_run_id=None, attempt=1
        )
    timed.command_seconds = 0.0
    started = time.perf_counter()
    with SetWorkflowID(workflow_id(validation.id)):
        handle = await DBOS.enqueue_workflow_async(QUEUE, validation_flow, validation.id)
    report = await handle.get_result(polling_interval_sec=RESULT_POLL_SEC)
    wall = time.perf_counter() - started
    assert report.merged, report
    return wall, timed.command_seconds


async def measure(label: str, settings: Settings, runs: int, work: Path) -> dict[str, float]:
    async with running(settings) as runtime:
        timed = TimedSandbox(runtime.drivers.sandbox())
        bind(replace(runtime, drivers=TimedDrivers(runtime.drivers, timed)))
        repo = make_repository(work / f"repo-{label}", runs + 1)
        project = await project_flows.create_project(
            name=label,
            repository=str(repo),
            default_branch="main",
            agent=AgentSettings(recipe="turns:\n  - reply: unused\n"),
            settings=TRIVIAL,
        )
        await one_validation(runtime, timed, project.id, repo, runs)  # warm-up, not counted
        walls, commands = [], []
        for n in range(runs):
            wall, command = await one_validation(runtime, timed, project.id, repo, n)
            walls.append(wall)
            commands.append(command)
    overheads = [w - c for w, c in zip(walls, commands, strict=True)]
    return {
        "wall_ms": statistics.median(walls) * 1000,
        "commands_ms": statistics.median(commands) * 1000,
        "overhead_ms": statistics.median(overheads) * 1000,
        "overhead_p90_ms": sorted(overheads)[int(0.9 * (len(overheads) - 1))] * 1000,
    }


async def main(runs: int) -> int:
    print(f"validation overhead benchmark, {runs} validations per configuration (median)")
    print(f"machine: {describe()}")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="codegenapp-bench-") as tmp:
        work = Path(tmp)
        configs: list[tuple[str, dict[str, object]]] = [
            ("sqlite+bubblewrap", {"sandbox": "bubblewrap"}),
            ("sqlite+process", {"sandbox": "process"}),
        ]
        db_name = f"codegenapp_bench_{os.getpid()}"
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{db_name}"')
            configs.append(
                (
                    "postgres+bubblewrap",
                    {
                        "sandbox": "bubblewrap",
                        "database_url": f"postgresql://postgres@127.0.0.1:5432/{db_name}",
                    },
                )
            )
        except psycopg.OperationalError as error:
            print(f"(PostgreSQL not reachable, skipped: {error})")
        try:
            for label, extra in configs:
                settings = Settings(  # type: ignore[arg-type]
                    home=work / label, repository_roots=str(work), **extra
                )
                results[label] = await measure(label, settings, runs, work)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    print(
        f"\n{'configuration':<22}{'wall':>10}{'commands':>10}{'overhead':>10}{'p90':>10}"
        f"{'vs target':>11}"
    )
    for label, r in results.items():
        print(
            f"{label:<22}{r['wall_ms']:>8.1f}ms{r['commands_ms']:>8.1f}ms{r['overhead_ms']:>8.1f}ms"
            f"{r['overhead_p90_ms']:>8.1f}ms{r['overhead_ms'] / TARGET_MS:>10.2f}x"
        )
    base = results["sqlite+process"]["overhead_ms"]
    for label, r in results.items():
        print(f"ratio {label} / sqlite+process overhead: {r['overhead_ms'] / base:.2f}")
    worst = max(r["overhead_ms"] for r in results.values())
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"\nslowest median overhead {worst:.1f} ms {verdict} the {TARGET_MS:.0f} ms target")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
