"""What a project's dependency cache saves: the same `npm ci` (an Express app, 72 packages)
in the first validation of a project (its base branch's, with an empty cache, which fills
it) and in the next one (a pull request's, which reads it), in the same run.

Both are real validations through the product, in bubblewrap, reaching registry.npmjs.org
only through the egress proxy. npm says, for every request, whether its cache answered it
(`npm_config_loglevel=http`: "(cache miss)" means a download); the bench counts those and
times the build command. pip is not benched: on this machine an intercepting proxy strips
PyPI's caching headers, so pip's HTTP cache stores nothing here (it does against PyPI itself).

Run: `make bench` (or `.venv/bin/python bench/cache.py [--rounds N]`).
"""

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync

from codegenapp.db.queries import pull_requests, validations
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.states import StepName, ValidationKind, ValidationStatus
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime
from codegenapp.flows.validation import (
    QUEUE,
    RESULT_POLL_SEC,
    ValidationReport,
    validation_flow,
    workflow_id,
)
from codegenapp.main import running
from codegenapp.settings import Settings
from machine import describe

PROJECT = Path(__file__).with_name("projects") / "express-app"
SETTINGS = ProjectSettings(
    deployment_settings=DeploymentSettings(
        build_command="npm ci --no-audit --no-fund",
        build_environment={"npm_config_loglevel": "http"},
        deploy_command="node server.js",
        health_check_url="/health",
        port=3000,
    ),
    validation_settings=ValidationSettings(validate_base_branch=True),
)
_BUILD_TIME = re.compile(r"build: passed in ([0-9.]+)s")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repository(path: Path) -> Path:
    shutil.copytree(PROJECT, path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    git(path, "checkout", "-q", "-b", "change")
    (path / "README.md").write_text("A change that needs no new package.\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "change")
    git(path, "checkout", "-q", "main")
    return path


async def settle_baselines(runtime: Runtime, project_id: int) -> None:
    async with runtime.database.read() as session:
        rows, _ = await validations.list_validations(
            session, project_id=project_id, kind=ValidationKind.BASELINE.value
        )
    for row in rows:
        handle: WorkflowHandleAsync[ValidationReport] = await DBOS.retrieve_workflow_async(
            workflow_id(row.id)
        )
        await handle.get_result(polling_interval_sec=RESULT_POLL_SEC)


async def deploy_log(runtime: Runtime, validation_id: int) -> str:
    async with runtime.database.read() as session:
        step = await validations.get_step(session, validation_id, StepName.DEPLOY)
    return step.log if step else ""


def figures(log: str) -> tuple[float, int]:
    """Build seconds, and how many requests npm had to send to the registry."""
    found = _BUILD_TIME.search(log)
    if found is None:
        raise SystemExit(f"the build did not pass:\n{log[-3000:]}")
    return float(found[1]), log.count("(cache miss)")


async def one_round(work: Path, n: int) -> tuple[tuple[float, int], tuple[float, int]]:
    home = work / f"home-{n}"
    settings = Settings(home=home, repository_roots=str(work), sandbox="bubblewrap")
    async with running(settings) as runtime:
        repo = make_repository(work / f"repo-{n}")
        project = await project_flows.create_project(
            name=f"cache-{n}",
            repository=str(repo),
            default_branch="main",
            agent=ScriptedAgentSettings(recipe="turns:\n  - reply: unused\n"),
            settings=SETTINGS,
        )
        # The project's first validation: its base branch, started in the background.
        async with runtime.database.read() as session:
            [baseline], _ = await validations.list_validations(
                session, project_id=project.id, kind=ValidationKind.BASELINE.value
            )
        handle: WorkflowHandleAsync[ValidationReport] = await DBOS.retrieve_workflow_async(
            workflow_id(baseline.id)
        )
        first = await handle.get_result(polling_interval_sec=RESULT_POLL_SEC)
        assert first.status is ValidationStatus.PASSED, first
        # Then a pull request's.
        forge = runtime.drivers.forge(ForgeKind.LOCAL)
        change = await forge.open_change_request(
            str(repo), head_branch="change", base_branch="main", title="change", body=""
        )
        async with runtime.database.transaction() as session:
            pr = await pull_requests.record_pull_request(
                session,
                project_id=project.id,
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
        with SetWorkflowID(workflow_id(validation.id)):
            handle = await DBOS.enqueue_workflow_async(QUEUE, validation_flow, validation.id)
        second = await handle.get_result(polling_interval_sec=RESULT_POLL_SEC)
        assert second.status is ValidationStatus.PASSED, second
        await settle_baselines(runtime, project.id)  # the merge's: not cut off at shutdown
        return (
            figures(await deploy_log(runtime, baseline.id)),
            figures(await deploy_log(runtime, validation.id)),
        )


async def main(rounds: int) -> int:
    print(f"dependency cache benchmark: npm ci of {PROJECT.name}, {rounds} rounds (medians)")
    print(f"machine: {describe()}")
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="codegenapp-bench-cache-") as tmp:
        for n in range(rounds):
            first, second = await one_round(Path(tmp), n)
            cold.append(first)
            warm.append(second)
    cold_s = statistics.median(figure[0] for figure in cold)
    warm_s = statistics.median(figure[0] for figure in warm)
    print(f"\n{'':<28}{'npm ci':>10}{'downloads':>11}")
    for label, runs, seconds in (
        ("first build (empty cache)", cold, cold_s),
        ("second build (warm cache)", warm, warm_s),
    ):
        downloads = statistics.median(figure[1] for figure in runs)
        print(f"{label:<28}{seconds:>9.2f}s{downloads:>11.0f}")
    print(f"\nthe second build takes {cold_s / warm_s:.1f}× less time than the first")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args().rounds)))
