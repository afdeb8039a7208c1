"""Project shapes: the brief's settings JSON, exactly."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from codegenapp.db.queries.project_stats import ProjectStats
from codegenapp.db.queries.projects import agent_settings_of, forge_of, settings_of
from codegenapp.db.tables import ProjectRow
from codegenapp.domain.agent_settings import AgentSettings
from codegenapp.domain.limits import STORABLE
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    NotificationSettings,
    ValidationSettings,
)
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.states import AgentRunStatus, CheckName, StepName, ValidationStatus

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), STORABLE
]
_FORBIDDEN_IN_BRANCH = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|//")


def _branch_name(value: str) -> str:
    # The rules of `git check-ref-format --branch` that matter for a name typed by a person.
    if value.startswith(("-", "/", ".")) or value.endswith(("/", ".", ".lock")):
        raise ValueError("is not a valid git branch name")
    if _FORBIDDEN_IN_BRANCH.search(value):
        raise ValueError("is not a valid git branch name (no spaces, '..', or any of ~^:?*[\\)")
    return value


BranchName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    STORABLE,
    AfterValidator(_branch_name),
]
Repository = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096), STORABLE
]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    forge: ForgeKind | None = Field(
        default=None,
        description="Where the repository lives: `local` (a path on this server) or `github` "
        "(GitHub or GitHub Enterprise). Default: github for an https:// address, else local.",
    )
    repository: Repository = Field(
        description="local: a path to a git repository (bare or not), under one of the "
        "server's repository roots (CODEGENAPP_REPOSITORY_ROOTS). github: OWNER/NAME, or "
        "https://github.com/OWNER/NAME."
    )
    default_branch: BranchName = "main"
    agent: AgentSettings
    deployment_settings: DeploymentSettings = Field(default_factory=DeploymentSettings)
    validation_settings: ValidationSettings = Field(default_factory=ValidationSettings)
    notification_settings: NotificationSettings = Field(default_factory=NotificationSettings)


class ProjectUpdate(BaseModel):
    """Fields left out keep their value; a settings section given replaces that section."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    forge: ForgeKind | None = None
    repository: Repository | None = None
    default_branch: BranchName | None = None
    agent: AgentSettings | None = None
    deployment_settings: DeploymentSettings | None = None
    validation_settings: ValidationSettings | None = None
    notification_settings: NotificationSettings | None = None


class ProjectRead(BaseModel):
    id: int
    name: str
    forge: ForgeKind
    repository: str
    default_branch: str
    agent: AgentSettings
    deployment_settings: DeploymentSettings
    validation_settings: ValidationSettings
    notification_settings: NotificationSettings
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ProjectRow) -> "ProjectRead":
        settings = settings_of(row)
        return cls(
            id=row.id,
            name=row.name,
            forge=forge_of(row),
            repository=row.repository,
            default_branch=row.default_branch,
            agent=agent_settings_of(row),
            deployment_settings=settings.deployment_settings,
            validation_settings=settings.validation_settings,
            notification_settings=settings.notification_settings,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class RunSummary(BaseModel):
    id: int
    goal: str
    status: AgentRunStatus
    updated_at: datetime


class ValidationSummary(BaseModel):
    id: int
    status: ValidationStatus
    attempt: int
    pr_number: int
    finished_at: datetime | None


class BaselineSummary(BaseModel):
    """The newest validation of the project's base branch: when it fails, pull requests that
    fail the same way are the settings' fault, not theirs."""

    id: int
    branch: str | None
    sha: str
    status: ValidationStatus
    failed_step: StepName | None
    failed_check: CheckName | None
    reason: str | None
    finished_at: datetime | None


class ValidationPointRead(BaseModel):
    id: int
    attempt: int
    pr_number: int
    status: ValidationStatus
    created_at: datetime
    duration_s: float | None


class MergedAttempts(BaseModel):
    pr_number: int
    attempts: int


class ProjectStatsRead(BaseModel):
    """A project's card and charts: last run, last verdict, pass rate and history."""

    project_id: int
    last_run: RunSummary | None
    last_validation: ValidationSummary | None
    baseline: BaselineSummary | None
    validations_total: int
    validations_passed: int
    validations_failed: int
    pass_rate: float | None
    history: list[ValidationPointRead]
    attempts_per_merged_pr: list[MergedAttempts]

    @classmethod
    def of(cls, project_id: int, stats: ProjectStats) -> "ProjectStatsRead":
        run, validation = stats.last_run, stats.last_validation
        return cls(
            project_id=project_id,
            last_run=RunSummary(
                id=run.id,
                goal=run.goal,
                status=AgentRunStatus(run.status),
                updated_at=run.updated_at,
            )
            if run
            else None,
            last_validation=ValidationSummary(
                id=validation.id,
                status=ValidationStatus(validation.status),
                attempt=validation.attempt,
                pr_number=validation.pr_number or 0,
                finished_at=validation.finished_at,
            )
            if validation
            else None,
            baseline=BaselineSummary(
                id=base.id,
                branch=base.base_branch,
                sha=base.head_sha,
                status=ValidationStatus(base.status),
                failed_step=StepName(base.failed_step) if base.failed_step else None,
                failed_check=CheckName(base.failed_check) if base.failed_check else None,
                reason=base.reason,
                finished_at=base.finished_at,
            )
            if (base := stats.baseline)
            else None,
            validations_total=stats.validations_total,
            validations_passed=stats.validations_passed,
            validations_failed=stats.validations_failed,
            pass_rate=stats.pass_rate,
            history=[
                ValidationPointRead(
                    id=point.id,
                    attempt=point.attempt,
                    pr_number=point.pr_number,
                    status=ValidationStatus(point.status),
                    created_at=point.created_at,
                    duration_s=point.duration_s,
                )
                for point in stats.history
            ],
            attempts_per_merged_pr=[
                MergedAttempts(pr_number=number, attempts=count)
                for number, count in stats.attempts_per_merged_pr
            ],
        )
