"""What a project's card and charts show: last run, last verdict, pass rate, history."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries.validations import latest_baseline
from codegenapp.db.tables import AgentRunRow, PullRequestRow, ValidationRow
from codegenapp.domain.states import ValidationKind, ValidationStatus

HISTORY_LENGTH = 50


@dataclass(frozen=True, slots=True)
class ValidationPoint:
    id: int
    attempt: int
    pr_number: int
    status: str
    created_at: datetime
    duration_s: float | None


@dataclass(frozen=True, slots=True)
class ProjectStats:
    last_run: AgentRunRow | None
    last_validation: ValidationRow | None
    baseline: ValidationRow | None  # the newest validation of the base branch
    validations_total: int
    validations_passed: int
    validations_failed: int
    history: list[ValidationPoint]
    attempts_per_merged_pr: list[tuple[int, int]]

    @property
    def pass_rate(self) -> float | None:
        decided = self.validations_passed + self.validations_failed
        return self.validations_passed / decided if decided else None


async def project_stats(session: AsyncSession, project_id: int) -> ProjectStats:
    last_run = await session.scalar(
        select(AgentRunRow)
        .where(AgentRunRow.project_id == project_id)
        .order_by(AgentRunRow.id.desc())
        .limit(1)
    )
    of_pull_requests = (
        ValidationRow.project_id == project_id,
        ValidationRow.kind == ValidationKind.PULL_REQUEST.value,
    )
    last_validation = await session.scalar(
        select(ValidationRow).where(*of_pull_requests).order_by(ValidationRow.id.desc()).limit(1)
    )
    counts = dict(
        (
            await session.execute(
                select(ValidationRow.status, func.count())
                .where(*of_pull_requests)
                .group_by(ValidationRow.status)
            )
        ).all()
    )
    return ProjectStats(
        last_run=last_run,
        last_validation=last_validation,
        baseline=await latest_baseline(session, project_id),
        validations_total=sum(counts.values()),
        validations_passed=counts.get(ValidationStatus.PASSED.value, 0),
        validations_failed=counts.get(ValidationStatus.FAILED.value, 0),
        history=await _history(session, project_id),
        attempts_per_merged_pr=await _attempts_per_merged_pr(session, project_id),
    )


async def _history(session: AsyncSession, project_id: int) -> list[ValidationPoint]:
    rows = (
        await session.scalars(
            select(ValidationRow)
            .where(
                ValidationRow.project_id == project_id,
                ValidationRow.kind == ValidationKind.PULL_REQUEST.value,
                ValidationRow.finished_at.is_not(None),
            )
            .order_by(ValidationRow.id.desc())
            .limit(HISTORY_LENGTH)
        )
    ).all()
    return [
        ValidationPoint(
            id=row.id,
            attempt=row.attempt,
            pr_number=row.pr_number or 0,
            status=row.status,
            created_at=row.created_at,
            duration_s=(row.finished_at - row.started_at).total_seconds()
            if row.finished_at and row.started_at
            else None,
        )
        for row in reversed(rows)
    ]


async def _attempts_per_merged_pr(session: AsyncSession, project_id: int) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(PullRequestRow.number, func.count(ValidationRow.id))
        .join(ValidationRow, ValidationRow.pull_request_id == PullRequestRow.id)
        .where(PullRequestRow.project_id == project_id, PullRequestRow.merged.is_(True))
        .group_by(PullRequestRow.number)
        .order_by(PullRequestRow.number)
    )
    return [(int(number), int(count)) for number, count in rows.all()]
