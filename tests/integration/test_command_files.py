"""A failed command that points to a file in its work area (npm's debug log, a test report):
the file is read from the real sandbox before cleanup deletes it, masked, and kept as an
artifact of the validation; the agent is told where it is kept, with its last lines. A path
that leads out of the work area (a symbolic link to the host's files) keeps nothing."""

from pathlib import Path

import pytest
from tests.support.projects import APP, make_repository, recipe_text
from tests.support.waiting import run_settled

from codegenapp import artifacts
from codegenapp.db.queries import validations
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.artifacts import ArtifactKind
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.states import CheckName
from codegenapp.flows import actions
from codegenapp.flows import projects as project_flows
from codegenapp.flows.runtime import Runtime

SECRET = "sk-live-0123456789abcdef"
# npm's way: a debug log under $HOME, named on the last line; and a report beside the code
# that is really a link to a host file.
OUTSIDE = "host-file-7c1e5a"  # the content of a file outside the work area
BUILD = (
    "mkdir -p $HOME/.npm/_logs && "
    "printf 'verbose cli npm\\nerror code EUSAGE\\nkey %s\\n' \"$PAYMENT_API_KEY\" "
    "> $HOME/.npm/_logs/debug-0.log && "
    "ln -s {outside} host.log && "
    'echo "report: $(pwd -P)/host.log" && '
    'echo "npm error A complete log of this run can be found in: $HOME/.npm/_logs/debug-0.log" && '
    "exit 1"
)


@pytest.mark.parametrize("sandbox", ["bubblewrap", "process"])
async def test_a_file_a_failed_command_points_to_is_kept_before_cleanup(
    backend: Runtime, tmp_path: Path, sandbox: str
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    outside = tmp_path / "outside.txt"
    outside.write_text(OUTSIDE)
    settings = ProjectSettings(
        deployment_settings=DeploymentSettings(
            build_command=BUILD.replace("{outside}", str(outside)),
            sandbox=sandbox,
            environment_variables={"PAYMENT_API_KEY": SECRET},
        ),
        validation_settings=ValidationSettings(
            required_checks=[CheckName.BUILD], max_retries=0, validate_base_branch=False
        ),
    )
    project = await project_flows.create_project(
        name=f"files-{sandbox}",
        repository=str(repo),
        default_branch="main",
        agent=ScriptedAgentSettings(recipe=recipe_text([{"files": {"NOTES.md": "x\n"}}])),
        settings=settings,
    )
    run = await actions.start_run(project_id=project.id, goal="Build it")
    await run_settled(backend, run.id)
    async with backend.database.read() as session:
        [validation], _ = await validations.list_validations(session, agent_run_id=run.id)

    kept = artifacts.list_artifacts(backend.settings.artifacts_root, validation.id)
    assert [(a.name, a.kind) for a in kept] == [("build-file-1.log", ArtifactKind.COMMAND_FILE)]
    content, _ = artifacts.read_artifact(
        backend.settings.artifacts_root, validation.id, "build-file-1.log"
    ) or (b"", None)
    assert b"error code EUSAGE" in content
    assert b"key ***" in content
    assert SECRET.encode() not in content
    context = validation.error_context or ""
    assert "kept as the validation's artifact build-file-1.log" in context, context
    assert "error code EUSAGE" in context
    assert OUTSIDE not in context
