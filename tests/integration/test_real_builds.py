"""Real projects validate green: a Python project (a venv, `pip install -e .` with a build
backend from PyPI, pytest) and a Node project (`npm ci` from a committed lock, `node --test`),
each built, tested, deployed and health-checked in a sandbox whose only way out is the egress
proxy to the package registries, then merged. In-process, with real git and the scripted agent.

They download from PyPI and npm through the product's egress proxy, and nothing else: flit_core
and pytest (with its four small dependencies, ~2 MB) for each Python validation, `ms` (one
small package) for Node.
"""

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import SettingsFactory
from tests.support.projects import make_repository, merges_on, recipe_text
from tests.support.sandboxes import DOCKER, Docker, require_bubblewrap
from tests.support.waiting import run_settled, until

from codegenapp.db.queries import pull_requests, validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import (
    AgentRunStatus,
    CheckName,
    StepName,
    ValidationKind,
    ValidationStatus,
)
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime
from codegenapp.settings import Settings

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "projects"
KINDS = ("bubblewrap", DOCKER)
"""The sandboxes every real project is validated in."""

RUN_TIMEOUT_S = 600  # a Python validation takes 20-30 s here; room for a loaded CI machine
REQUIRED = [CheckName.BUILD, CheckName.TEST, CheckName.DEPLOY, CheckName.HEALTH]
README_CHANGE = "\nValidated by CodegenApp before it was merged.\n"
# npm at loglevel "http" prints one line per request it makes to the registry; a tarball
# taken from the cache makes none. (`added 1 package` reads the same either way.)
TARBALL_FETCH = re.compile(r"npm http fetch GET \d+ https://registry\.npmjs\.org/\S+\.tgz")


@dataclass(frozen=True, slots=True)
class RealProject:
    """A fixture project and the settings a user would give it, the README's way."""

    directory: str
    deployment: dict[str, object]
    test_command: str
    installed: str  # what the deploy log shows once the real install happened
    needs: tuple[str, ...]  # host programs a bubblewrap sandbox runs (it sees the host's /usr)


PYTHON = RealProject(
    directory="python-app",
    deployment={
        "build_command": "python3 -m venv .venv && pip install -e . pytest",
        "path_prepend": [".venv/bin"],
        "deploy_command": "python -m app",
        "health_check_url": "/health",
        "port": 8000,
    },
    test_command="pytest -q",
    installed="Successfully installed greeting-app-0.1.0",
    needs=("/usr/bin/python3",),
)
NODE = RealProject(
    directory="node-app",
    deployment={
        "build_command": "npm ci",
        # The app's tests expect error details, which it hides in production: were NODE_ENV to
        # reach `npm test` (or `npm ci`, which would then skip devDependencies), they would fail.
        "service_environment": {"NODE_ENV": "production"},
        # What makes a warm cache observable: npm logs every request it sends.
        "build_environment": {"npm_config_loglevel": "http"},
        # Said before the port opens: the app's own "listening" line can come after the
        # health check has passed and the sandbox is gone, on a busy machine.
        "deploy_command": 'echo "the service runs with NODE_ENV=$NODE_ENV"; exec node server.js',
        "health_check_url": "/health",
        "port": 3000,
    },
    test_command="npm test",
    installed="added 1 package",
    needs=("/usr/bin/node", "/usr/bin/npm"),
)


async def _placement(kind: str, project: RealProject) -> dict[str, str]:
    """`deployment_settings.sandbox` and `image` for `kind`; fail (never skip) if this machine
    lacks what that kind needs."""
    match kind:
        case "bubblewrap":
            await require_bubblewrap()
            missing = [program for program in project.needs if not Path(program).exists()]
            if missing:
                pytest.fail(f"the sandbox runs the host's {', '.join(missing)}: install them")
            if shutil.which("tinyproxy") is None:
                pytest.fail("the egress proxy needs tinyproxy: apt-get install -y tinyproxy-bin")
            if project is PYTHON:
                _require_venv()
            return {"sandbox": "bubblewrap", "image": ""}
        case "docker":
            # The test image: Debian 12 with python3-venv, Node 18 and npm, nothing of the
            # projects' own (tests/images/runtime).
            return {"sandbox": "docker", "image": "codegenapp-test/runtime"}
        case _:
            pytest.fail(f"no sandbox kind {kind!r} in this suite yet")


@pytest.fixture
def settings(make_settings: SettingsFactory, kind: str, request: pytest.FixtureRequest) -> Settings:
    """The server's settings; for docker, its daemon and sidecar image are the test ones."""
    if kind != "docker":
        return make_settings()
    docker: Docker = request.getfixturevalue("docker")
    return make_settings(
        docker_host=docker.daemon.host, egress_proxy_image=docker.images.egress_proxy
    )


def _require_venv() -> None:
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import ensurepip"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.fail("python3 -m venv needs ensurepip: apt-get install -y python3-venv")


async def _settings(project: RealProject, kind: str) -> ProjectSettings:
    return ProjectSettings(
        deployment_settings=DeploymentSettings.model_validate(
            {**project.deployment, **await _placement(kind, project)}
        ),
        validation_settings=ValidationSettings(
            test_command=project.test_command, required_checks=REQUIRED, max_retries=0
        ),
    )


def _files_of(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): path.read_text()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and "node_modules" not in path.parts
    }


def _readme_turn(text: str) -> list[dict[str, object]]:
    return [{"files": {"README.md": text}, "message": "Say who validated it"}]


async def _new_project(
    tmp_path: Path, project: RealProject, kind: str
) -> tuple[int, Path, dict[str, str]]:
    files = _files_of(FIXTURES / project.directory)
    repo = make_repository(tmp_path / project.directory, files)
    row = await project_flows.create_project(
        name=f"{project.directory}-{kind}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(
            recipe=recipe_text(_readme_turn(files["README.md"] + README_CHANGE))
        ),
        settings=await _settings(project, kind),
    )
    return row.id, repo, files


async def _merged_run(runtime: Runtime, project_id: int, repo: Path) -> ValidationRow:
    """Start a run, wait for it; assert it completed with its pull request merged; return the
    pull request's one validation."""
    run = await actions.start_run(project_id=project_id, goal="Say who validated it")
    run = await run_settled(runtime, run.id, timeout=RUN_TIMEOUT_S)
    async with runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, agent_run_id=run.id)
    assert run.status == AgentRunStatus.COMPLETED, f"{run.result}\n{await _logs(runtime, rows)}"
    [validation] = rows
    async with runtime.database.read() as session:
        pr = await pull_requests.require_pull_request(session, run.pull_request_id or 0)
    assert pr.merged, run.result
    assert pr.merge_sha in merges_on(repo)
    assert validation.status == ValidationStatus.PASSED
    assert {check: validation.checks.get(check) for check in REQUIRED} == dict.fromkeys(
        REQUIRED, "passed"
    )
    return validation


async def _step_log(runtime: Runtime, validation_id: int, step: StepName) -> str:
    async with runtime.database.read() as session:
        row = await validations.get_step(session, validation_id, step)
    assert row is not None, f"validation {validation_id} has no {step.value} step"
    return row.log


async def _logs(runtime: Runtime, rows: Sequence[ValidationRow]) -> str:
    """Every step log of `rows`, for a failure message that shows what happened."""
    parts = []
    for row in rows:
        async with runtime.database.read() as session:
            steps = await validations.list_steps(session, row.id)
        parts += [
            f"--- validation {row.id} {step.name} ({step.status})\n{step.log}" for step in steps
        ]
    return "\n".join(parts)


async def _settled_baselines(runtime: Runtime, project_id: int, count: int) -> list[ValidationRow]:
    """The project's `count` baselines, once all are final (oldest first)."""

    async def check() -> list[ValidationRow] | None:
        async with runtime.database.read() as session:
            rows, _ = await validations.list_validations(
                session, project_id=project_id, kind=ValidationKind.BASELINE.value
            )
        done = [row for row in rows if ValidationStatus(row.status).is_final]
        return sorted(rows, key=lambda row: row.id) if len(done) == len(rows) == count else None

    return await until(runtime, check, timeout=RUN_TIMEOUT_S)


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_real_python_project_builds_in_a_venv_passes_its_tests_and_is_merged(
    backend: Runtime, tmp_path: Path, kind: str
) -> None:
    project_id, repo, _ = await _new_project(tmp_path, PYTHON, kind)

    validation = await _merged_run(backend, project_id, repo)

    deploy = await _step_log(backend, validation.id, StepName.DEPLOY)
    assert PYTHON.installed in deploy  # pip really installed it, with flit_core from PyPI
    assert re.search(r"^\d+ passed", deploy, re.MULTILINE), deploy
    health = await _step_log(backend, validation.id, StepName.HEALTH_CHECK)
    assert "healthy after" in health
    # No warm-cache assertion for pip: this machine's intercepting proxy strips the caching
    # headers from PyPI's answers, so pip's HTTP cache never serves anything here.
    baselines = await _settled_baselines(backend, project_id, 2)  # the first commit, the merge
    assert [row.status for row in baselines] == [ValidationStatus.PASSED] * 2


@pytest.mark.timeout(2 * RUN_TIMEOUT_S + 60)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_real_node_project_installs_from_its_lock_and_a_later_build_uses_the_cache(
    backend: Runtime, tmp_path: Path, kind: str
) -> None:
    project_id, repo, files = await _new_project(tmp_path, NODE, kind)

    first = await _merged_run(backend, project_id, repo)

    deploy = await _step_log(backend, first.id, StepName.DEPLOY)
    assert NODE.installed in deploy  # npm ci really installed `ms` from the registry
    assert re.search(r"^# pass 4$", deploy, re.MULTILINE), deploy  # NODE_ENV stayed out
    assert "the service runs with NODE_ENV=production" in deploy  # ... and reached the service
    assert "healthy after" in await _step_log(backend, first.id, StepName.HEALTH_CHECK)

    # Only trusted code (the base branch's baselines) adds to the project's cache. The first
    # builds ran on an empty one and fetched the tarball (which shows the observable works);
    # once the baselines of the first commit and of the merge are done, a pull request's
    # `npm ci` fetches nothing.
    initial, after_merge = await _settled_baselines(backend, project_id, 2)
    cold = [await _step_log(backend, row.id, StepName.DEPLOY) for row in (initial, first)]
    assert any(TARBALL_FETCH.search(log) for log in cold), cold
    assert after_merge.status == ValidationStatus.PASSED
    second_turn = _readme_turn(files["README.md"] + README_CHANGE + "Twice.\n")
    await project_flows.update_project(
        project_id,
        name=None,
        repository=None,
        default_branch=None,
        agent=ScriptedAgentSettings(recipe=recipe_text(second_turn)),
        deployment=None,
        validation=None,
        notification=None,
    )

    second = await _merged_run(backend, project_id, repo)

    deploy = await _step_log(backend, second.id, StepName.DEPLOY)
    assert NODE.installed in deploy
    assert "npm http" in deploy, "npm logged no requests: nothing here could show a download"
    assert not TARBALL_FETCH.search(deploy), deploy
    assert "npm http fetch GET" not in deploy, deploy  # no metadata either: the lock has it all
    await _settled_baselines(backend, project_id, 3)  # the second merge's: nothing left running
