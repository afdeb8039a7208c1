"""A project's settings, exactly as the brief's JSON names them, validated field by field.

Unknown fields are refused rather than ignored: a misspelt `max_retires` silently doing nothing
is worse than a 422 that names it.
"""

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codegenapp.domain.limits import STORABLE
from codegenapp.domain.states import CheckName

_MAX_COMMAND_LENGTH = 4096
MAX_RECIPE_CHARS = 256 * 1024
MAX_ENV_NAME_LENGTH = 128
MAX_ENV_VALUE_LENGTH = 32 * 1024
MAX_ENVIRONMENT_VARIABLES = 500
# What reaches a process as its environment must fit the kernel's limit (2 MiB with argv,
# on a default 8 MiB stack): plain variables and secrets each get a part of it.
MAX_ENVIRONMENT_BYTES = 512 * 1024
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Set by the sandbox itself; a project may not override them.
RESERVED_ENV_NAMES = frozenset({"PORT", "HOME", "PATH", "CI"})

Command = Annotated[str, Field(max_length=_MAX_COMMAND_LENGTH), STORABLE]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_env_name(name: str) -> str:
    """Raise `ValueError` unless `name` can be a project's variable (plain or secret)."""
    if len(name) > MAX_ENV_NAME_LENGTH or not ENV_NAME.match(name):
        raise ValueError(
            f"{name[:MAX_ENV_NAME_LENGTH]!r} is not a valid variable name (letters, digits, '_'; "
            f"not starting with a digit; at most {MAX_ENV_NAME_LENGTH} characters)"
        )
    if name in RESERVED_ENV_NAMES:
        raise ValueError(f"{name!r} is set by the sandbox and cannot be overridden")
    return name


class DeploymentSettings(_Settings):
    """How a pull request's code is built and started inside the sandbox."""

    build_command: Command = ""
    deploy_command: Command = ""
    health_check_url: Annotated[str, Field(max_length=2048), STORABLE] = ""
    environment_variables: dict[
        Annotated[str, Field(max_length=MAX_ENV_NAME_LENGTH), STORABLE],
        Annotated[str, Field(max_length=MAX_ENV_VALUE_LENGTH), STORABLE],
    ] = Field(
        default_factory=dict,
        max_length=MAX_ENVIRONMENT_VARIABLES,
        description="Plain (non-secret) variables for the project's commands; secrets go "
        "through /api/v1/projects/{id}/secrets.",
    )
    port: int = Field(default=8000, ge=1, le=65535)

    @field_validator("health_check_url")
    @classmethod
    def _health_is_a_path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("must be a path on the deployed app, starting with '/' (or empty)")
        if any(ch.isspace() for ch in value):
            raise ValueError("must not contain white space")
        return value

    @field_validator("environment_variables")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            check_env_name(name)
        size = sum(len(name.encode()) + len(text.encode()) + 2 for name, text in value.items())
        if size > MAX_ENVIRONMENT_BYTES:
            raise ValueError(
                f"take {size} bytes; at most {MAX_ENVIRONMENT_BYTES} fit a process's environment"
            )
        return value


class ValidationSettings(_Settings):
    """What a validation runs and what it takes to merge."""

    auto_merge: bool = True
    required_checks: list[CheckName] = Field(default_factory=list)
    timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    max_retries: int = Field(default=3, ge=0, le=20)
    test_command: Command = ""
    security_command: Command = ""

    @field_validator("required_checks")
    @classmethod
    def _no_duplicates(cls, value: list[CheckName]) -> list[CheckName]:
        if len(set(value)) != len(value):
            raise ValueError("lists a check twice")
        return value


class NotificationSettings(_Settings):
    slack_webhook: Annotated[str, Field(max_length=2048), STORABLE] = ""
    email_notifications: bool = True
    github_status_updates: bool = True

    @field_validator("slack_webhook")
    @classmethod
    def _https_or_empty(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (or empty)")
        return value


class AgentSettings(_Settings):
    """Which agent answers the project's goals.

    `scripted` replays a recipe (YAML text, stored with the project): it is the demo's and the
    tests' stand-in for an AI.
    """

    provider: Literal["scripted"] = "scripted"
    recipe: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_RECIPE_CHARS,
            description="The scripted agent's recipe: YAML text (not a path), checked at once.",
        ),
        STORABLE,
    ]


class ProjectSettings(_Settings):
    """Everything about a project that steers its flows; stored and versioned together."""

    deployment_settings: DeploymentSettings = Field(default_factory=DeploymentSettings)
    validation_settings: ValidationSettings = Field(default_factory=ValidationSettings)
    notification_settings: NotificationSettings = Field(default_factory=NotificationSettings)
