"""A project's settings, exactly as the brief's JSON names them, validated field by field.

Unknown fields are refused rather than ignored: a misspelt `max_retires` silently doing nothing
is worse than a 422 that names it.
"""

import hashlib
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from codegenapp.domain.limits import STORABLE
from codegenapp.domain.network_policy import check_host_pattern
from codegenapp.domain.states import CheckName
from codegenapp.domain.web_eval_settings import WebEvalSettings

_MAX_COMMAND_LENGTH = 4096
MAX_RECIPE_CHARS = 256 * 1024
MAX_ENV_NAME_LENGTH = 128
MAX_ENV_VALUE_LENGTH = 32 * 1024
MAX_ENVIRONMENT_VARIABLES = 500
# What reaches a process as its environment must fit the kernel's limit (2 MiB with argv,
# on a default 8 MiB stack): plain variables and secrets each get a part of it.
MAX_ENVIRONMENT_BYTES = 512 * 1024
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
_IMAGE = re.compile(
    r"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
# Set by the sandbox itself; a project may not override them.
RESERVED_ENV_NAMES = frozenset({"PORT", "HOME", "PATH", "CI"})

MAX_PATH_ENTRIES = 32
MAX_ALLOWED_HOSTS = 100

Command = Annotated[str, Field(max_length=_MAX_COMMAND_LENGTH), STORABLE]
# A GitHub login: letters, digits and single hyphens; an App's bot ends in [bot].
ForgeLogin = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:\[bot\])?$")
]
EnvName = Annotated[str, Field(max_length=MAX_ENV_NAME_LENGTH), STORABLE]
EnvValue = Annotated[str, Field(max_length=MAX_ENV_VALUE_LENGTH), STORABLE]
SandboxKind = Literal["bubblewrap", "docker", "process"]


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


def check_environment(value: dict[str, str]) -> dict[str, str]:
    """Raise `ValueError` unless every name can be a variable and the whole fits a process."""
    for name in value:
        check_env_name(name)
    _check_size(value)
    return value


def _check_size(*parts: dict[str, str]) -> None:
    size = sum(
        len(name.encode()) + len(text.encode()) + 2 for part in parts for name, text in part.items()
    )
    if size > MAX_ENVIRONMENT_BYTES:
        raise ValueError(
            f"take {size} bytes; at most {MAX_ENVIRONMENT_BYTES} fit a process's environment"
        )


class ResourceSettings(_Settings):
    """What one validation's sandbox may use, all its processes together."""

    cpus: float = Field(default=2.0, ge=0.1, le=64, description="CPU time, in cores")
    memory_mb: int = Field(default=4096, ge=64, le=1024 * 1024)
    pids: int = Field(default=4096, ge=16, le=1_000_000, description="processes and threads")
    disk_mb: int = Field(
        default=10240, ge=64, le=16 * 1024 * 1024, description="the work area's disk space"
    )


class DeploymentSettings(_Settings):
    """How a pull request's code is built and started inside the sandbox."""

    build_command: Command = ""
    deploy_command: Command = ""
    health_check_url: Annotated[str, Field(max_length=2048), STORABLE] = ""
    health_check_timeout_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="How long the deployed app may take to answer its health check with 2xx.",
    )
    environment_variables: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=MAX_ENVIRONMENT_VARIABLES,
        description="Plain (non-secret) variables for every command and the service; secrets "
        "go through /api/v1/projects/{id}/secrets.",
    )
    build_environment: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=MAX_ENVIRONMENT_VARIABLES,
        description="Added to environment_variables for the build, test and security commands "
        "only.",
    )
    service_environment: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=MAX_ENVIRONMENT_VARIABLES,
        description="Added to environment_variables for the deployed service only (e.g. NODE_ENV).",
    )
    port: int = Field(default=8000, ge=1, le=65535)
    sandbox: SandboxKind | None = Field(
        default=None,
        description="Where validations run; default: the server's CODEGENAPP_SANDBOX.",
    )
    image: Annotated[str, Field(max_length=255), STORABLE] = Field(
        default="",
        validate_default=True,
        description="The container image for the docker sandbox (required there), e.g. "
        "python:3.12-slim.",
    )
    resources: ResourceSettings = Field(default_factory=ResourceSettings)
    path_prepend: list[Annotated[str, Field(min_length=1, max_length=1024), STORABLE]] = Field(
        default_factory=list,
        max_length=MAX_PATH_ENTRIES,
        description="Directories put first on PATH, relative to the checkout (e.g. .venv/bin, "
        "node_modules/.bin) or absolute inside the sandbox.",
    )
    network: Literal["none", "registries"] = Field(
        default="registries",
        description="What the build, test and security commands may reach: nothing, or the "
        "package registries (PyPI, npm, Debian) and allowed_hosts through an egress proxy. The "
        "deployed app never reaches anything.",
    )
    allowed_hosts: list[Annotated[str, Field(max_length=253), STORABLE]] = Field(
        default_factory=list,
        max_length=MAX_ALLOWED_HOSTS,
        description="More hosts the commands may reach when network is 'registries': exact "
        "names (pypi.example.com) or subdomain wildcards (*.example.com).",
    )

    @field_validator("health_check_url")
    @classmethod
    def _health_is_a_path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("must be a path on the deployed app, starting with '/' (or empty)")
        if any(ch.isspace() for ch in value):
            raise ValueError("must not contain white space")
        return value

    @field_validator("environment_variables", "build_environment", "service_environment")
    @classmethod
    def _env_names(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        check_environment(value)
        if info.field_name != "environment_variables" and "environment_variables" in info.data:
            try:
                _check_size(info.data["environment_variables"], value)
            except ValueError as error:
                raise ValueError(f"with environment_variables, {error}") from None
        return value

    @field_validator("image")
    @classmethod
    def _image_reference(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("sandbox") == "docker":
            raise ValueError("is required when sandbox is 'docker' (e.g. node:20-slim)")
        if value and not _IMAGE.fullmatch(value):
            raise ValueError(
                "must be an image reference such as python:3.12-slim or "
                "registry.example.com/team/app@sha256:<digest>"
            )
        return value

    @field_validator("path_prepend")
    @classmethod
    def _path_entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            if ":" in entry or any(ch.isspace() or not ch.isprintable() for ch in entry):
                raise ValueError(f"{entry[:80]!r}: a directory may not hold ':' or white space")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str]) -> list[str]:
        return [check_host_pattern(host) for host in value]


class ValidationSettings(_Settings):
    """What a validation runs and what it takes to merge."""

    auto_merge: bool = True
    required_checks: list[CheckName] = Field(default_factory=list)
    timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    max_retries: int = Field(default=3, ge=0, le=20)
    test_command: Command = ""
    security_command: Command = ""
    validate_base_branch: bool = Field(
        default=True,
        description="Validate the base branch too (once per commit and settings), so that a "
        "pull request failing where its base fails the same way is reported as a setup "
        "problem instead of being sent back to the agent.",
    )
    merge_method: Literal["merge", "squash", "rebase"] = Field(
        default="merge", description="How a validated pull request is merged on its forge."
    )
    auto_merge_authors: list[ForgeLogin] = Field(
        default_factory=list,
        max_length=100,
        description="Whose pull requests are merged automatically besides this server's own "
        "agent runs' (GitHub logins); everyone else's are validated and reported only.",
    )
    validate_drafts: bool = Field(
        default=False, description="Validate draft pull requests too (otherwise: once ready)."
    )
    # Left out of the stored JSON while unset, so that the settings digest of every project
    # without it stays what it was (their baselines still count).
    web_eval: WebEvalSettings | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The browser evaluation of the deployed preview; unset: not evaluated.",
    )

    @field_validator("required_checks")
    @classmethod
    def _no_duplicates(cls, value: list[CheckName]) -> list[CheckName]:
        if len(set(value)) != len(value):
            raise ValueError("lists a check twice")
        return value


class NotificationSettings(_Settings):
    slack_webhook: Annotated[str, Field(max_length=2048), STORABLE] = ""
    email_notifications: bool = True
    github_status_updates: bool = Field(
        default=True,
        description="Report validations on the forge: check runs (or commit statuses) and the "
        "pull request's report comment. False: nothing is written there.",
    )
    check_run_name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$",
            description="The name of the aggregate check run (and commit status context); "
            "required checks get '<name> / <check>'.",
        ),
        STORABLE,
    ] = "codegenapp"

    @field_validator("slack_webhook")
    @classmethod
    def _https_or_empty(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (or empty)")
        return value


class ProjectSettings(_Settings):
    """Everything about a project that steers its flows; stored and versioned together."""

    deployment_settings: DeploymentSettings = Field(default_factory=DeploymentSettings)
    validation_settings: ValidationSettings = Field(default_factory=ValidationSettings)
    notification_settings: NotificationSettings = Field(default_factory=NotificationSettings)

    def digest(self) -> str:
        """Equal for two settings under which a validation runs the same way (notifications
        aside): a baseline speaks only for validations with the same digest."""
        material = (
            self.deployment_settings.model_dump_json() + self.validation_settings.model_dump_json()
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]
