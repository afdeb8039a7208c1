"""Validation shapes."""

from datetime import datetime

from pydantic import BaseModel

from codegenapp.artifacts import Artifact
from codegenapp.db.tables import PullRequestRow, ValidationRow, ValidationStepRow
from codegenapp.domain.artifacts import ArtifactKind
from codegenapp.domain.states import (
    CheckName,
    CheckStatus,
    Fault,
    StepName,
    StepStatus,
    ValidationKind,
    ValidationStatus,
)


class StepRead(BaseModel):
    name: StepName
    status: StepStatus
    summary: str | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: ValidationStepRow) -> "StepRead":
        return cls(
            name=StepName(row.name),
            status=StepStatus(row.status),
            summary=row.summary,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


class PullRequestSummary(BaseModel):
    """The pull request a validation checked, and who opened it (None: one of our runs)."""

    number: int
    title: str
    url: str
    branch: str
    author: str | None

    @classmethod
    def of(cls, row: PullRequestRow) -> "PullRequestSummary":
        return cls(
            number=row.number, title=row.title, url=row.url, branch=row.branch, author=row.author
        )


class ArtifactRead(BaseModel):
    """Evidence the validation kept: a screenshot, its findings, a page's text, a file (a log,
    a report) that a failed command pointed to, or the Playwright trace of a failed browser
    evaluation."""

    name: str
    kind: ArtifactKind
    size: int  # bytes
    url: str  # where to GET it (with the token)

    @classmethod
    def of(cls, validation_id: int, artifact: Artifact) -> "ArtifactRead":
        return cls(
            name=artifact.name,
            kind=artifact.kind,
            size=artifact.size,
            url=f"/api/v1/validations/{validation_id}/artifacts/{artifact.name}",
        )


class ValidationRead(BaseModel):
    id: int
    project_id: int
    agent_run_id: int | None
    kind: ValidationKind
    pr_number: int | None  # None for a baseline
    pull_request: PullRequestSummary | None  # None for a baseline
    head_sha: str
    base_branch: str | None
    base_sha: str | None
    attempt: int
    status: ValidationStatus
    fault: Fault | None
    failed_step: StepName | None
    failed_check: CheckName | None
    reason: str | None
    checks: dict[CheckName, CheckStatus]
    error_context: str | None
    merged: bool
    merge_sha: str | None
    merge_blocked_reason: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[StepRead]
    artifacts: list[ArtifactRead] = []

    @classmethod
    def of(
        cls,
        row: ValidationRow,
        steps: list[ValidationStepRow],
        pull_request: PullRequestRow | None = None,
        artifacts: list[Artifact] | None = None,
    ) -> "ValidationRead":
        return cls(
            id=row.id,
            project_id=row.project_id,
            agent_run_id=row.agent_run_id,
            kind=ValidationKind(row.kind),
            pr_number=row.pr_number,
            pull_request=PullRequestSummary.of(pull_request) if pull_request else None,
            head_sha=row.head_sha,
            base_branch=row.base_branch,
            base_sha=row.base_sha,
            attempt=row.attempt,
            status=ValidationStatus(row.status),
            fault=Fault(row.fault) if row.fault else None,
            failed_step=StepName(row.failed_step) if row.failed_step else None,
            failed_check=CheckName(row.failed_check) if row.failed_check else None,
            reason=row.reason,
            checks={CheckName(k): CheckStatus(str(v)) for k, v in row.checks.items()},
            error_context=row.error_context,
            merged=row.merged,
            merge_sha=row.merge_sha,
            merge_blocked_reason=row.merge_blocked_reason,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            steps=[StepRead.of(step) for step in steps],
            artifacts=[ArtifactRead.of(row.id, artifact) for artifact in artifacts or ()],
        )
