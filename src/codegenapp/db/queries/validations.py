"""Validations and their steps: the one write path, and reads."""

from collections.abc import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.queries.paging import page
from codegenapp.db.tables import JsonDict, PullRequestRow, ValidationRow, ValidationStepRow, utcnow
from codegenapp.domain.events import EventType, JsonValue
from codegenapp.domain.lifecycles import (
    VALIDATIONS,
    ValidationMove,
    check_validation_transition,
)
from codegenapp.domain.states import (
    PIPELINE,
    CheckName,
    CheckStatus,
    Fault,
    StepName,
    StepStatus,
    ValidationKind,
    ValidationStatus,
)
from codegenapp.errors import NotFound


def _move(validation: ValidationRow, new: ValidationStatus, by: ValidationMove) -> None:
    """The one place a validation's status changes; `InvalidTransition` if its life cycle
    forbids it."""
    validation.status = check_validation_transition(
        validation.status, new, by=by, ident=validation.id
    ).value


async def _event(
    session: AsyncSession, validation: ValidationRow, type: EventType, data: dict[str, JsonValue]
) -> None:
    await events.record(
        session,
        type,
        project_id=validation.project_id,
        agent_run_id=validation.agent_run_id,
        validation_id=validation.id,
        data={
            "validation_id": validation.id,
            "agent_run_id": validation.agent_run_id,
            "kind": validation.kind,
            "pr_number": validation.pr_number,
            "attempt": validation.attempt,
            "status": validation.status,
            **data,
        },
    )


async def create_validation(
    session: AsyncSession,
    *,
    pull_request: PullRequestRow,
    agent_run_id: int | None,
    attempt: int,
) -> ValidationRow:
    validation = ValidationRow(
        project_id=pull_request.project_id,
        agent_run_id=agent_run_id,
        kind=ValidationKind.PULL_REQUEST.value,
        pull_request_id=pull_request.id,
        pr_number=pull_request.number,
        head_sha=pull_request.head_sha,
        base_branch=pull_request.base_branch,
        attempt=attempt,
        status=VALIDATIONS.initial.value,
        checks={},
    )
    return await _queue(session, validation)


async def create_baseline(
    session: AsyncSession, *, project_id: int, branch: str, sha: str, settings_digest: str
) -> ValidationRow:
    """A validation of the base branch at `sha`, under the settings of `settings_digest`: no
    pull request, never merged."""
    validation = ValidationRow(
        project_id=project_id,
        agent_run_id=None,
        kind=ValidationKind.BASELINE.value,
        pull_request_id=None,
        pr_number=None,
        head_sha=sha,
        base_branch=branch,
        base_sha=sha,
        settings_digest=settings_digest,
        attempt=1,
        status=VALIDATIONS.initial.value,
        checks={},
    )
    return await _queue(session, validation)


async def find_baseline(
    session: AsyncSession, *, project_id: int, sha: str, settings_digest: str
) -> ValidationRow | None:
    """The newest baseline of `sha` under those settings that ran or will run to a verdict
    (not cancelled, not ended by an error of ours: those are worth another try)."""
    return await session.scalar(
        select(ValidationRow)
        .where(
            ValidationRow.project_id == project_id,
            ValidationRow.kind == ValidationKind.BASELINE.value,
            ValidationRow.head_sha == sha,
            ValidationRow.settings_digest == settings_digest,
            ValidationRow.status.not_in(
                [ValidationStatus.CANCELLED.value, ValidationStatus.ERROR.value]
            ),
        )
        .order_by(ValidationRow.id.desc())
        .limit(1)
    )


async def latest_baseline(session: AsyncSession, project_id: int) -> ValidationRow | None:
    return await session.scalar(
        select(ValidationRow)
        .where(
            ValidationRow.project_id == project_id,
            ValidationRow.kind == ValidationKind.BASELINE.value,
        )
        .order_by(ValidationRow.id.desc())
        .limit(1)
    )


async def latest_finished_baseline(
    session: AsyncSession, *, project_id: int, settings_digest: str
) -> ValidationRow | None:
    """The newest baseline under those settings that ran to a verdict (passed or failed): the
    one whose screenshots a pull request's are compared with, if it got as far as taking them."""
    return await session.scalar(
        select(ValidationRow)
        .where(
            ValidationRow.project_id == project_id,
            ValidationRow.kind == ValidationKind.BASELINE.value,
            ValidationRow.settings_digest == settings_digest,
            ValidationRow.status.in_(
                [ValidationStatus.PASSED.value, ValidationStatus.FAILED.value]
            ),
        )
        .order_by(ValidationRow.id.desc())
        .limit(1)
    )


async def record_base(
    session: AsyncSession, validation_id: int, *, base_sha: str | None, settings_digest: str
) -> None:
    validation = await require_validation(session, validation_id)
    validation.base_sha, validation.settings_digest = base_sha, settings_digest


async def _queue(session: AsyncSession, validation: ValidationRow) -> ValidationRow:
    session.add(validation)
    await session.flush()
    for position, name in enumerate(PIPELINE):
        session.add(
            ValidationStepRow(
                validation_id=validation.id,
                name=name.value,
                position=position,
                status=StepStatus.PENDING.value,
                log="",
            )
        )
    await _event(
        session, validation, EventType.VALIDATION_QUEUED, {"head_sha": validation.head_sha}
    )
    return validation


async def get_validation(session: AsyncSession, validation_id: int) -> ValidationRow | None:
    return await session.get(ValidationRow, validation_id)


async def require_validation(session: AsyncSession, validation_id: int) -> ValidationRow:
    validation = await get_validation(session, validation_id)
    if validation is None:
        raise NotFound(f"validation {validation_id} does not exist")
    return validation


async def list_validations(
    session: AsyncSession,
    *,
    project_id: int | None = None,
    agent_run_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ValidationRow], int]:
    query = select(ValidationRow).order_by(ValidationRow.id.desc())
    if kind is not None:
        query = query.where(ValidationRow.kind == kind)
    if project_id is not None:
        query = query.where(ValidationRow.project_id == project_id)
    if agent_run_id is not None:
        query = query.where(ValidationRow.agent_run_id == agent_run_id)
    if status is not None:
        query = query.where(ValidationRow.status == status)
    return await page(session, query, limit=limit, offset=offset)


async def validation_ids_of_run(session: AsyncSession, run_id: int) -> list[int]:
    query = (
        select(ValidationRow.id)
        .where(ValidationRow.agent_run_id == run_id)
        .order_by(ValidationRow.id)
    )
    return list((await session.scalars(query)).all())


async def list_steps(session: AsyncSession, validation_id: int) -> list[ValidationStepRow]:
    query = (
        select(ValidationStepRow)
        .where(ValidationStepRow.validation_id == validation_id)
        .order_by(ValidationStepRow.position)
    )
    return list((await session.scalars(query)).all())


async def get_step(
    session: AsyncSession, validation_id: int, name: StepName
) -> ValidationStepRow | None:
    return await session.scalar(
        select(ValidationStepRow).where(
            ValidationStepRow.validation_id == validation_id,
            ValidationStepRow.name == name.value,
        )
    )


async def _require_step(
    session: AsyncSession, validation_id: int, name: StepName
) -> ValidationStepRow:
    step = await get_step(session, validation_id, name)
    if step is None:
        raise NotFound(f"validation {validation_id} has no step {name.value}")
    return step


async def unfinished_validation(
    session: AsyncSession, pull_request_id: int
) -> ValidationRow | None:
    """A queued or running validation of the pull request, if there is one."""
    return await session.scalar(
        select(ValidationRow)
        .where(
            ValidationRow.pull_request_id == pull_request_id,
            ValidationRow.status.in_(
                [ValidationStatus.QUEUED.value, ValidationStatus.RUNNING.value]
            ),
        )
        .order_by(ValidationRow.id.desc())
        .limit(1)
    )


async def unfinished_validations(
    session: AsyncSession, pull_request_id: int
) -> list[ValidationRow]:
    """Every queued or running validation of the pull request, whatever head it validates."""
    found = await session.scalars(
        select(ValidationRow).where(
            ValidationRow.pull_request_id == pull_request_id,
            ValidationRow.status.in_(
                [ValidationStatus.QUEUED.value, ValidationStatus.RUNNING.value]
            ),
        )
    )
    return list(found)


async def validation_of_head(
    session: AsyncSession, pull_request_id: int, head_sha: str
) -> ValidationRow | None:
    """The newest validation of the pull request at `head_sha` that runs or ran to a verdict
    (a cancelled one does not count: that head is worth validating again)."""
    return await session.scalar(
        select(ValidationRow)
        .where(
            ValidationRow.pull_request_id == pull_request_id,
            ValidationRow.head_sha == head_sha,
            ValidationRow.status != ValidationStatus.CANCELLED.value,
        )
        .order_by(ValidationRow.id.desc())
        .limit(1)
    )


async def assign_to_run(session: AsyncSession, validation_id: int, run_id: int) -> None:
    """Make a validation that a webhook started the agent run's own (the run opened that pull
    request, and its forge told us first)."""
    validation = await require_validation(session, validation_id)
    if validation.agent_run_id is None:
        validation.agent_run_id = run_id


async def next_attempt(session: AsyncSession, pull_request_id: int) -> int:
    latest = await session.scalar(
        select(func.max(ValidationRow.attempt)).where(
            ValidationRow.pull_request_id == pull_request_id
        )
    )
    return (latest or 0) + 1


async def begin_validation(session: AsyncSession, validation_id: int) -> ValidationRow:
    """Mark the validation running. If it already was (its worker died mid-way), its steps go
    back to pending: the attempt starts again from a fresh sandbox, and says so."""
    validation = await require_validation(session, validation_id)
    if ValidationStatus(validation.status).is_final:
        return validation
    restarted = validation.status == ValidationStatus.RUNNING
    move = ValidationMove.RESTART if restarted else ValidationMove.BEGIN
    _move(validation, ValidationStatus.RUNNING, move)
    validation.started_at = utcnow()
    if restarted:
        await restart_steps(session, validation_id, "the worker stopped; this attempt starts again")
    else:
        await _event(session, validation, EventType.VALIDATION_STARTED, {})
    return validation


async def restart_steps(session: AsyncSession, validation_id: int, why: str) -> None:
    """Put every step back to pending, saying `why` in each log that has begun."""
    validation = await require_validation(session, validation_id)
    for step in await list_steps(session, validation_id):
        step.status, step.started_at, step.finished_at = StepStatus.PENDING.value, None, None
        if step.log:
            step.log += f"\n--- {why} ---\n"
    await _event(session, validation, EventType.VALIDATION_PROGRESS, {"restarted": True})


async def record_sandbox(
    session: AsyncSession, validation_id: int, sandbox: JsonDict | None
) -> None:
    validation = await require_validation(session, validation_id)
    validation.sandbox = sandbox


async def start_step(session: AsyncSession, validation_id: int, name: StepName) -> None:
    validation = await require_validation(session, validation_id)
    if ValidationStatus(validation.status).is_final:
        return
    step = await _require_step(session, validation_id, name)
    step.status, step.started_at, step.finished_at = StepStatus.RUNNING.value, utcnow(), None
    await _event(
        session,
        validation,
        EventType.VALIDATION_PROGRESS,
        {"step": name.value, "step_status": step.status},
    )


async def finish_step(
    session: AsyncSession,
    validation_id: int,
    name: StepName,
    *,
    status: StepStatus,
    summary: str,
    checks: Mapping[str, str] | None = None,
) -> None:
    validation = await require_validation(session, validation_id)
    # Cleanup still reports after a cancellation; nothing else changes a closed validation.
    if ValidationStatus(validation.status).is_final and name is not StepName.CLEANUP:
        return
    step = await _require_step(session, validation_id, name)
    step.status, step.summary, step.finished_at = status.value, summary, utcnow()
    if step.started_at is None:
        step.started_at = step.finished_at
    if checks:
        validation.checks = {**validation.checks, **checks}
    await _event(
        session,
        validation,
        EventType.VALIDATION_PROGRESS,
        {"step": name.value, "step_status": status.value, "summary": summary},
    )


async def append_log(session: AsyncSession, validation_id: int, name: StepName, text: str) -> None:
    await session.execute(
        update(ValidationStepRow)
        .where(
            ValidationStepRow.validation_id == validation_id,
            ValidationStepRow.name == name.value,
        )
        .values(log=ValidationStepRow.log + text)
    )


async def replace_log(session: AsyncSession, validation_id: int, name: StepName, text: str) -> None:
    step = await _require_step(session, validation_id, name)
    step.log = text


async def finish_validation(
    session: AsyncSession,
    validation_id: int,
    *,
    status: ValidationStatus,
    by: ValidationMove,
    failed_step: StepName | None,
    reason: str,
    failed_check: str | None = None,
    fault: Fault | None = None,
    error_context: str | None = None,
    error_signature: str | None = None,
) -> ValidationRow:
    """End the validation (`by` says why: its verdict, an abort, a cancellation). Every check
    that never reported is recorded as skipped and every step that never ran says why, so a
    validation that stopped early shows what it did not check. Idempotent: one already final
    is left as it is. Raise `InvalidTransition` if `by` cannot end it with `status`."""
    validation = await require_validation(session, validation_id)
    if ValidationStatus(validation.status).is_final:
        return validation
    _move(validation, status, by)
    validation.failed_step = failed_step.value if failed_step else None
    validation.failed_check = failed_check
    validation.fault = fault.value if fault else None
    validation.reason = reason
    validation.error_context = error_context
    validation.error_signature = error_signature
    validation.finished_at = utcnow()
    validation.checks = _with_unreported_checks(validation.checks)
    await _close_steps(session, validation_id, status, reason)
    await _event(
        session,
        validation,
        EventType.VALIDATION_COMPLETED,
        {
            "failed_step": validation.failed_step,
            "fault": validation.fault,
            "reason": reason,
            "checks": dict(validation.checks),
        },
    )
    return validation


def _with_unreported_checks(checks: JsonDict) -> JsonDict:
    # A check whose step never ran is shown as skipped, not left out: an empty `checks` read
    # as "nothing was required" on a validation that timed out or could not run.
    unreported = {
        name.value: CheckStatus.SKIPPED.value for name in CheckName if name.value not in checks
    }
    return {**checks, **unreported}


async def _close_steps(
    session: AsyncSession, validation_id: int, status: ValidationStatus, reason: str
) -> None:
    """Close the steps a validation ended without: each says it did not run, and why."""
    for step in await list_steps(session, validation_id):
        if step.status not in (StepStatus.PENDING, StepStatus.RUNNING):
            continue
        began = step.status == StepStatus.RUNNING
        step.status = (
            StepStatus.CANCELLED.value
            if status is ValidationStatus.CANCELLED
            else StepStatus.SKIPPED.value
        )
        step.summary = step.summary or f"{'stopped' if began else 'not run'}: {reason}"


async def record_merge(
    session: AsyncSession,
    validation_id: int,
    *,
    merged: bool,
    merge_sha: str | None,
    blocked_reason: str | None,
) -> ValidationRow:
    """Record a merge, or why there was none. Idempotent: a merged validation stays merged,
    and the same refusal twice writes nothing. A later merge (a person's request after a
    refusal) replaces the refusal."""
    validation = await require_validation(session, validation_id)
    if validation.merged or (not merged and validation.merge_blocked_reason == blocked_reason):
        return validation
    validation.merged, validation.merge_sha = merged, merge_sha
    validation.merge_blocked_reason = blocked_reason
    if blocked_reason:
        await _event(session, validation, EventType.MERGE_BLOCKED, {"reason": blocked_reason})
    return validation
