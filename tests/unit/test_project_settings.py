"""Project settings: the brief's JSON as written, and clear refusals."""

import pytest
from pydantic import ValidationError

from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import CheckName

BRIEF_EXAMPLE = {
    "deployment_settings": {
        "build_command": "npm run build",
        "deploy_command": "npm run deploy",
        "health_check_url": "/health",
        "environment_variables": {},
    },
    "validation_settings": {
        "auto_merge": True,
        "required_checks": ["build", "test", "security"],
        "timeout_minutes": 30,
        "max_retries": 3,
    },
    "notification_settings": {
        "slack_webhook": "",
        "email_notifications": True,
        "github_status_updates": True,
    },
}


def test_the_briefs_example_is_accepted_as_written() -> None:
    settings = ProjectSettings.model_validate(BRIEF_EXAMPLE)
    assert settings.validation_settings.required_checks == [
        CheckName.BUILD,
        CheckName.TEST,
        CheckName.SECURITY,
    ]
    assert (
        settings.model_dump(mode="json")["deployment_settings"]["build_command"] == "npm run build"
    )


def _error_for(data: dict[str, object]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        ProjectSettings.model_validate(data)
    error = caught.value.errors()[0]
    return ".".join(map(str, error["loc"])), error["msg"]


def test_a_misspelt_field_is_named_not_ignored() -> None:
    where, why = _error_for({"validation_settings": {"max_retires": 3}})
    assert where == "validation_settings.max_retires"
    assert "Extra inputs are not permitted" in why


def test_environment_variables_need_valid_names_and_cannot_override_the_port() -> None:
    where, why = _error_for({"deployment_settings": {"environment_variables": {"1X": "a"}}})
    assert where == "deployment_settings.environment_variables"
    assert "not a valid variable name" in why
    _, why = _error_for({"deployment_settings": {"environment_variables": {"PORT": "1"}}})
    assert "set by the sandbox" in why


def test_a_check_is_listed_once_and_by_a_known_name() -> None:
    _, why = _error_for({"validation_settings": {"required_checks": ["build", "build"]}})
    assert "twice" in why
    where, why = _error_for({"validation_settings": {"required_checks": ["lint"]}})
    assert where == "validation_settings.required_checks.0"
    assert "'web_eval'" in why


def test_commands_cannot_hide_nul_bytes() -> None:
    where, why = _error_for({"deployment_settings": {"build_command": "make\x00rm"}})
    assert (where, why) == (
        "deployment_settings.build_command",
        "Value error, must not contain NUL characters",
    )


def test_the_check_run_name_defaults_to_codegenapp_and_refuses_what_github_would_garble() -> None:
    assert ProjectSettings().notification_settings.check_run_name == "codegenapp"
    named = ProjectSettings.model_validate({"notification_settings": {"check_run_name": "ci/app"}})
    assert named.notification_settings.check_run_name == "ci/app"
    for bad in ("", " leading", "x" * 101, "new\nline"):
        with pytest.raises(ValidationError, match="check_run_name"):
            ProjectSettings.model_validate({"notification_settings": {"check_run_name": bad}})
