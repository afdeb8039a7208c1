"""Whose fault a failure is, decided before any agent is asked: the code's, the setup's (the
base branch fails the same way), or the sandbox's (it could not run, twice). In-process, with
real git, a real bubblewrap sandbox and the scripted agent."""

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from tests.support.projects import APP, make_repository, merges_on, recipe_text
from tests.support.waiting import run_settled, until

from codegenapp.db.queries import projects, validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.agent_settings import AgentSettings, ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import (
    AgentRunStatus,
    Fault,
    StepName,
    ValidationKind,
    ValidationStatus,
)
from codegenapp.drivers.agent import Agent
from codegenapp.drivers.evaluator import Evaluator
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.sandbox import Sandbox, SandboxHandle, SandboxSpec
from codegenapp.errors import SandboxUnavailable
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import DriverSet, Runtime, bind

CHECK = "print('checks pass')\n"
# The project's own setup is broken: its build needs a module nobody installs.
BROKEN_SETUP = ProjectSettings(
    deployment_settings=DeploymentSettings(
        build_command="python3 -c 'import flask_that_is_not_installed'"
    ),
    validation_settings=ValidationSettings(max_retries=2),
)
WORKING = ProjectSettings(
    deployment_settings=DeploymentSettings(build_command="python3 -m py_compile app.py"),
    validation_settings=ValidationSettings(test_command="python3 check.py", max_retries=2),
)


async def _project(
    runtime: Runtime, tmp_path: Path, turns: list[dict[str, object]], settings: ProjectSettings
) -> tuple[int, Path]:
    repo = make_repository(tmp_path / "repo", {"app.py": APP, "check.py": CHECK})
    project = await project_flows.create_project(
        name=f"project-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe=recipe_text(turns)),
        settings=settings,
    )
    return project.id, repo


async def _baselines(runtime: Runtime, project_id: int) -> list[ValidationRow]:
    async with runtime.database.read() as session:
        rows, _ = await validations.list_validations(
            session, project_id=project_id, kind=ValidationKind.BASELINE.value
        )
    return rows


async def _settled_baselines(
    runtime: Runtime, project_id: int, count: int
) -> Sequence[ValidationRow]:
    async def check() -> list[ValidationRow] | None:
        rows = await _baselines(runtime, project_id)
        done = [row for row in rows if ValidationStatus(row.status).is_final]
        return rows if len(rows) == count and len(done) == count else None

    return await until(runtime, check, timeout=120)


async def test_a_pull_request_failing_where_its_base_fails_the_same_way_is_the_setups_fault(
    backend: Runtime, tmp_path: Path
) -> None:
    turns: list[dict[str, object]] = [
        {"files": {"README.md": "a correct change\n"}},
        {"files": {"README.md": "a fix nobody should have been asked for\n"}},
    ]
    project_id, repo = await _project(backend, tmp_path, turns, BROKEN_SETUP)
    run = await actions.start_run(project_id=project_id, goal="Document it")
    run = await run_settled(backend, run.id, timeout=180)

    assert run.status == AgentRunStatus.FAILED
    assert "Needs a human" in (run.result or "")
    assert "the base branch fails here too" in (run.result or "")
    async with backend.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
    assert (validation.status, validation.fault) == (ValidationStatus.ERROR, Fault.SETUP)
    assert (validation.failed_step, validation.failed_check) == (StepName.DEPLOY, "build")
    assert run.turns_requested == 1, "the agent was asked to fix what its code did not break"
    [baseline] = await _baselines(backend, project_id)
    assert (baseline.status, baseline.failed_check) == (ValidationStatus.FAILED, "build")
    assert baseline.head_sha == validation.base_sha
    assert merges_on(repo) == []


async def test_a_pull_request_failing_where_its_base_passes_goes_back_to_the_agent(
    backend: Runtime, tmp_path: Path
) -> None:
    failing = "import sys\nprint('AssertionError: 2 != 3')\nsys.exit(1)\n"
    turns: list[dict[str, object]] = [
        {"files": {"check.py": failing}},
        {"files": {"check.py": CHECK}},
    ]
    project_id, repo = await _project(backend, tmp_path, turns, WORKING)
    run = await actions.start_run(project_id=project_id, goal="Change the check")
    run = await run_settled(backend, run.id, timeout=180)

    assert run.status == AgentRunStatus.COMPLETED, run.result
    async with backend.database.read() as session:
        rows, _ = await validations.list_validations(session, agent_run_id=run.id)
    verdicts = sorted((row.attempt, row.status, row.fault) for row in rows)
    assert verdicts == [
        (1, ValidationStatus.FAILED, Fault.CODE),
        (2, ValidationStatus.PASSED, None),
    ]
    assert len(merges_on(repo)) == 1


class SandboxThatFailsOnce:
    """The real sandbox, whose first `create` fails as a vanished daemon would."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner, self.name, self.isolated = inner, inner.name, inner.isolated
        self.failures = 1

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        if self.failures:
            self.failures -= 1
            raise SandboxUnavailable("the sandbox daemon went away")
        return await self.inner.create(spec)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


class FailingOnceDrivers:
    def __init__(self, inner: DriverSet) -> None:
        self.inner = inner
        self.sandbox_ = SandboxThatFailsOnce(inner.sandbox(None))

    def forge(self, repository: str) -> Forge:
        return self.inner.forge(repository)

    def agent(self, settings: AgentSettings) -> Agent:
        return self.inner.agent(settings)

    def sandbox(self, kind: str | None) -> Sandbox:
        return self.sandbox_  # type: ignore[return-value]

    def evaluator(self) -> Evaluator:
        return self.inner.evaluator()


async def test_a_sandbox_that_fails_is_retried_once_in_a_fresh_one(
    backend: Runtime, tmp_path: Path
) -> None:
    quiet = WORKING.validation_settings.model_copy(update={"validate_base_branch": False})
    settings = WORKING.model_copy(update={"validation_settings": quiet})
    project_id, _ = await _project(backend, tmp_path, [{"files": {"x": "1\n"}}], settings)
    drivers = FailingOnceDrivers(backend.drivers)
    bind(replace(backend, drivers=drivers))
    try:
        run = await actions.start_run(project_id=project_id, goal="Anything")
        run = await run_settled(backend, run.id)
    finally:
        bind(backend)

    assert run.status == AgentRunStatus.COMPLETED, run.result
    assert drivers.sandbox_.failures == 0
    async with backend.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
        snapshot = await validations.get_step(session, validation.id, StepName.SNAPSHOT)
    assert validation.status == ValidationStatus.PASSED
    assert snapshot is not None
    assert "the sandbox failed (the sandbox daemon went away); trying once more" in snapshot.log


async def test_the_base_is_validated_once_per_commit_and_settings(
    backend: Runtime, tmp_path: Path
) -> None:
    project_id, _ = await _project(backend, tmp_path, [{"reply": "hi"}], WORKING)
    [first] = await _settled_baselines(backend, project_id, 1)
    assert first.status == ValidationStatus.PASSED

    await project_flows.update_project(
        project_id,
        name="renamed",
        repository=None,
        default_branch=None,
        agent=None,
        deployment=None,
        validation=None,
        notification=None,
    )
    assert len(await _baselines(backend, project_id)) == 1  # same commit, same settings

    changed = WORKING.validation_settings.model_copy(update={"test_command": "false"})
    await project_flows.update_project(
        project_id,
        name=None,
        repository=None,
        default_branch=None,
        agent=None,
        deployment=None,
        validation=changed,
        notification=None,
    )
    newest, _ = await _settled_baselines(backend, project_id, 2)
    assert (newest.status, newest.failed_check) == (ValidationStatus.FAILED, "test")
    async with backend.database.read() as session:
        project = await projects.get_project(session, project_id)
    assert project is not None
    assert newest.settings_digest == projects.settings_of(project).digest()


async def test_a_merge_moves_the_base_and_its_new_commit_is_validated(
    backend: Runtime, tmp_path: Path
) -> None:
    project_id, repo = await _project(backend, tmp_path, [{"files": {"x": "1\n"}}], WORKING)
    run = await actions.start_run(project_id=project_id, goal="Add x")
    run = await run_settled(backend, run.id, timeout=180)
    assert run.status == AgentRunStatus.COMPLETED, run.result

    [merge_sha] = merges_on(repo)
    baselines = await _settled_baselines(backend, project_id, 2)
    assert baselines[0].head_sha == merge_sha
    assert all(row.status == ValidationStatus.PASSED for row in baselines)
