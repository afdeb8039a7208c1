"""The whole flow, in-process, with real git, a real sandbox and the scripted agent."""

from pathlib import Path

import pytest
from tests.conftest import SettingsFactory
from tests.support.projects import APP, git, make_repository, merges_on, recipe_text
from tests.support.waiting import run_in, run_settled, until, validation_in

from codegenapp.db.queries import pull_requests, validations
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import AgentRunStatus, CheckName, StepName, ValidationStatus
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime
from codegenapp.main import running
from codegenapp.settings import Settings

SERVICE = ProjectSettings(
    deployment_settings=DeploymentSettings(
        build_command="python3 -m py_compile app.py",
        deploy_command="python3 app.py",
        health_check_url="/health",
        port=9000,
    ),
    validation_settings=ValidationSettings(
        required_checks=[CheckName.BUILD, CheckName.TEST, CheckName.HEALTH],
        test_command="python3 check.py",
        max_retries=2,
    ),
)
PASSING_CHECK = "print('checks pass')\n"
FAILING_CHECK = "import sys\nprint('AssertionError: 2 != 3')\nsys.exit(1)\n"


async def _project(
    runtime: Runtime,
    tmp_path: Path,
    turns: list[dict[str, object]],
    *,
    settings: ProjectSettings = SERVICE,
    bare: bool = False,
) -> tuple[int, Path]:
    repo = make_repository(
        tmp_path / ("repo.git" if bare else "repo"),
        {"app.py": APP, "check.py": PASSING_CHECK},
        bare=bare,
    )
    recipe = recipe_text(turns)
    project = await project_flows.create_project(
        name=f"project-{tmp_path.name}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe=recipe),
        settings=settings,
    )
    return project.id, repo


async def _validations_of(runtime: Runtime, run_id: int) -> list[tuple[int, str, str | None]]:
    async with runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, agent_run_id=run_id)
    return sorted((row.attempt, row.status, row.failed_step) for row in rows)


async def test_a_failing_pull_request_is_fixed_by_the_agent_and_merged(
    backend: Runtime, tmp_path: Path
) -> None:
    project_id, repo = await _project(
        backend,
        tmp_path,
        [
            {"files": {"check.py": FAILING_CHECK}, "message": "Change the answer"},
            {"files": {"check.py": PASSING_CHECK}, "message": "Fix the check"},
        ],
        bare=True,
    )
    run = await actions.start_run(project_id=project_id, goal="Change the answer")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.COMPLETED, run.result
    assert await _validations_of(backend, run.id) == [
        (1, "failed", StepName.DEPLOY.value),
        (2, "passed", None),
    ]
    async with backend.database.read() as session:
        pr = await pull_requests.require_pull_request(session, run.pull_request_id or 0)
        first, _ = await validations.list_validations(session, agent_run_id=run.id, status="failed")
    assert pr.merged
    assert merges_on(repo) == [pr.merge_sha]
    assert git(repo, "rev-parse", f"{pr.merge_sha}^2") == pr.head_sha  # exactly what was validated
    context = first[0].error_context or ""
    assert "failed at check `test` (in step `deploy`), exit code 1" in context
    assert "The output of the `test` command, condensed" in context
    assert "AssertionError: 2 != 3" in context
    assert "build: $" not in context  # the test command's own output, not the whole step's


async def test_a_required_check_without_a_command_blocks_the_merge(
    backend: Runtime, tmp_path: Path
) -> None:
    settings = SERVICE.model_copy(
        update={
            "validation_settings": SERVICE.validation_settings.model_copy(
                update={"required_checks": [CheckName.BUILD, CheckName.SECURITY]}
            )
        }
    )
    project_id, repo = await _project(
        backend, tmp_path, [{"files": {"README": "hello\n"}}], settings=settings
    )
    run = await actions.start_run(project_id=project_id, goal="Add a README")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.COMPLETED
    assert "not merged: required checks did not run: security" in (run.result or "")
    assert merges_on(repo) == []


async def test_the_same_failure_twice_in_a_row_stops_before_the_retries_run_out(
    backend: Runtime, tmp_path: Path
) -> None:
    project_id, repo = await _project(
        backend,
        tmp_path,
        [
            {"files": {"check.py": FAILING_CHECK}},
            {"files": {"check.py": FAILING_CHECK + "# tried something\n"}},
            {"files": {"check.py": PASSING_CHECK}},
        ],
    )
    run = await actions.start_run(project_id=project_id, goal="Break it")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.FAILED
    assert "Needs a human" in (run.result or "")
    assert "failed the same way twice in a row" in (run.result or "")
    assert [attempt for attempt, _, _ in await _validations_of(backend, run.id)] == [1, 2]
    assert merges_on(repo) == []


async def test_when_the_retries_run_out_the_run_needs_a_human(
    backend: Runtime, tmp_path: Path
) -> None:
    settings = SERVICE.model_copy(
        update={
            "validation_settings": SERVICE.validation_settings.model_copy(update={"max_retries": 1})
        }
    )
    project_id, _ = await _project(
        backend,
        tmp_path,
        [
            {"files": {"check.py": FAILING_CHECK}},
            {"files": {"check.py": "import sys\nprint('another problem')\nsys.exit(3)\n"}},
        ],
        settings=settings,
    )
    run = await actions.start_run(project_id=project_id, goal="Break it twice")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.FAILED
    assert "failed validation 2 times (max_retries is 1)" in (run.result or "")


async def test_a_plan_change_reaches_the_agent_and_a_plain_reply_completes_the_run(
    backend: Runtime, tmp_path: Path
) -> None:
    project_id, _ = await _project(
        backend, tmp_path, [{"plan": "1. Do it"}, {"reply": "Done, nothing to change."}]
    )
    run = await actions.start_run(project_id=project_id, goal="Think first")
    waiting = await run_in(backend, run.id, AgentRunStatus.WAITING_INPUT)
    assert waiting.plan == "1. Do it"

    await actions.answer_plan(run.id, action="modify", text="Use two steps instead")
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.COMPLETED
    assert run.result == "Done, nothing to change."
    agent = backend.drivers.agent(ScriptedAgentSettings(recipe="- reply: unused\n"))
    prompts = agent.prompts(_job(run))  # type: ignore[attr-defined]
    assert "Use two steps instead" in prompts[-1]


async def test_a_finished_run_continues_with_a_message(backend: Runtime, tmp_path: Path) -> None:
    project_id, _ = await _project(backend, tmp_path, [{"reply": "First"}, {"reply": "Second"}])
    run = await actions.start_run(project_id=project_id, goal="Say something")
    await run_settled(backend, run.id)

    await actions.continue_run(run.id, message="And then?")
    run = await run_in(backend, run.id, AgentRunStatus.COMPLETED, AgentRunStatus.FAILED)
    run = await run_settled(backend, run.id)

    assert (run.status, run.result, run.segment) == (AgentRunStatus.COMPLETED, "Second", 1)


async def test_a_cancelled_run_stays_cancelled(backend: Runtime, tmp_path: Path) -> None:
    project_id, _ = await _project(backend, tmp_path, [{"plan": "1. Wait for me"}])
    run = await actions.start_run(project_id=project_id, goal="Plan something")
    await run_in(backend, run.id, AgentRunStatus.WAITING_INPUT)

    await actions.cancel_run(run.id)
    run = await run_settled(backend, run.id)

    assert run.status == AgentRunStatus.CANCELLED


@pytest.mark.postgres
async def test_the_flow_runs_on_postgresql_too(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    from tests.conftest import postgres_database

    with postgres_database() as url:
        settings: Settings = make_settings(database_url=url)
        async with running(settings) as runtime:
            project_id, repo = await _project(
                runtime,
                tmp_path,
                [{"files": {"check.py": FAILING_CHECK}}, {"files": {"check.py": PASSING_CHECK}}],
            )
            run = await actions.start_run(project_id=project_id, goal="Change it")
            run = await run_settled(runtime, run.id)
            assert run.status == AgentRunStatus.COMPLETED, run.result
            assert len(merges_on(repo)) == 1


def _job(run: object) -> object:
    from codegenapp.drivers.agent import AgentJob

    return AgentJob(driver=run.agent_driver, external_id=run.agent_job_id)  # type: ignore[attr-defined]


async def test_a_failed_validation_can_be_retried_as_a_new_attempt(
    backend: Runtime, tmp_path: Path
) -> None:
    settings = SERVICE.model_copy(
        update={
            "validation_settings": SERVICE.validation_settings.model_copy(update={"max_retries": 0})
        }
    )
    project_id, _ = await _project(
        backend, tmp_path, [{"files": {"check.py": FAILING_CHECK}}], settings=settings
    )
    run = await actions.start_run(project_id=project_id, goal="Break it")
    run = await run_settled(backend, run.id)
    assert run.status == AgentRunStatus.FAILED
    [(_, _, _)] = await _validations_of(backend, run.id)
    async with backend.database.read() as session:
        [first], _ = await validations.list_validations(session, agent_run_id=run.id)

    retry = await actions.retry_validation(first.id)
    done = await validation_in(backend, retry.id, ValidationStatus.FAILED, ValidationStatus.PASSED)

    assert (retry.attempt, retry.head_sha) == (2, first.head_sha)
    assert done.status == ValidationStatus.FAILED
    assert done.failed_step == StepName.DEPLOY.value


async def test_secrets_never_reach_a_log_or_the_error_context(
    backend: Runtime, tmp_path: Path
) -> None:
    secret = "sk-live-0123456789abcdef"
    settings = SERVICE.model_copy(
        update={
            "deployment_settings": SERVICE.deployment_settings.model_copy(
                update={"environment_variables": {"PAYMENT_API_KEY": secret}}
            ),
            "validation_settings": SERVICE.validation_settings.model_copy(
                update={"max_retries": 0}
            ),
        }
    )
    leak = "import base64, os, sys\nk = os.environ['PAYMENT_API_KEY']\n"
    leak += "print('key', k, base64.b64encode(k.encode()).decode())\nsys.exit(1)\n"
    project_id, _ = await _project(
        backend, tmp_path, [{"files": {"check.py": leak}}], settings=settings
    )
    run = await actions.start_run(project_id=project_id, goal="Leak it")
    await run_settled(backend, run.id)
    async with backend.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
        step = await validations.get_step(session, validation.id, StepName.DEPLOY)
    assert step is not None
    assert "key ***" in step.log
    for text in (step.log, validation.error_context or ""):
        assert secret not in text
        assert "c2stbGl2ZS0wMTIzNDU2Nzg5YWJjZGVm" not in text  # base64 of the secret


async def test_a_long_log_keeps_its_first_failure_and_its_summary_for_the_agent(
    backend: Runtime, tmp_path: Path
) -> None:
    settings = SERVICE.model_copy(
        update={
            "validation_settings": SERVICE.validation_settings.model_copy(update={"max_retries": 0})
        }
    )
    # The first failure, then 300 kB of noise, then the summary: a tail alone loses the first.
    noisy = (
        "import sys\n"
        "print('FAILED tests/test_cart.py::test_total - AssertionError: assert 2 == 3')\n"
        "for n in range(20000):\n    print(f'collecting item {n} of the suite')\n"
        "print('========== 1 failed, 41 passed in 3.20s ==========')\nsys.exit(1)\n"
    )
    project_id, _ = await _project(
        backend, tmp_path, [{"files": {"check.py": noisy}}], settings=settings
    )
    run = await actions.start_run(project_id=project_id, goal="Make it noisy")
    await run_settled(backend, run.id)
    async with backend.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)
    context = validation.error_context or ""
    assert "AssertionError: assert 2 == 3" in context, context
    assert "1 failed, 41 passed" in context, context
    assert len(context) < 12_000


async def test_cancelling_a_run_mid_validation_stops_its_sandbox_and_cleans_up(
    backend: Runtime, tmp_path: Path
) -> None:
    settings = SERVICE.model_copy(
        update={
            "deployment_settings": SERVICE.deployment_settings.model_copy(
                update={"build_command": "sleep 60"}
            ),
            # No baseline building beside it: the work directory must end empty.
            "validation_settings": SERVICE.validation_settings.model_copy(
                update={"validate_base_branch": False}
            ),
        }
    )
    project_id, _ = await _project(backend, tmp_path, [{"files": {"x": "1\n"}}], settings=settings)
    run = await actions.start_run(project_id=project_id, goal="Take long")

    async def deploying() -> int | None:
        async with backend.database.read() as session:
            rows, _ = await validations.list_validations(session, agent_run_id=run.id)
            if not rows:
                return None
            step = await validations.get_step(session, rows[0].id, StepName.DEPLOY)
        return rows[0].id if step is not None and step.status == "running" else None

    validation_id = await until(backend, deploying)
    await actions.cancel_run(run.id)

    run = await run_settled(backend, run.id)
    done = await validation_in(backend, validation_id, ValidationStatus.CANCELLED)
    cleaned = await until(backend, lambda: _cleanup_finished(backend, validation_id))
    assert run.status == AgentRunStatus.CANCELLED
    assert done.status == ValidationStatus.CANCELLED
    assert cleaned == "passed"
    assert list(backend.settings.work_dir.iterdir()) == []  # the work area is gone


async def _cleanup_finished(runtime: Runtime, validation_id: int) -> str | None:
    async with runtime.database.read() as session:
        step = await validations.get_step(session, validation_id, StepName.CLEANUP)
    return step.status if step is not None and step.status in ("passed", "failed") else None


async def test_a_validation_that_cannot_run_ends_as_an_error_not_a_failure_of_the_code(
    backend: Runtime, tmp_path: Path
) -> None:
    project_id, _ = await _project(backend, tmp_path, [{"files": {"x": "1\n"}}, {"reply": "?"}])
    work_dir = backend.settings.work_dir
    work_dir.rmdir()
    work_dir.write_text("not a directory: no sandbox can be made here")
    try:
        run = await actions.start_run(project_id=project_id, goal="Anything")
        run = await run_settled(backend, run.id)
    finally:
        work_dir.unlink()
        work_dir.mkdir()
    assert run.status == AgentRunStatus.FAILED
    assert "Needs a human: the validation could not run" in (run.result or "")
    assert await _validations_of(backend, run.id) == [(1, "error", StepName.SNAPSHOT.value)]
