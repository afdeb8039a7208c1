"""The validation flow: one attempt on a pull request's head, then the verdict and the merge.

    attempt (snapshot → clone → deploy → health → web_eval → cleanup)
      → conclude (status, checks, error context, commit status on the forge)
      → merge if passed and allowed (merge.py)

The attempt is one durable step: a sandbox does not outlive the worker that ran it, so after
a crash the attempt starts again from a fresh sandbox (docs/adr/0003).
"""

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from dbos import DBOS

from codegenapp.db.queries import projects, validations
from codegenapp.domain.error_context import ErrorContext, render_fix_prompt
from codegenapp.domain.masking import Masker
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import ValidationStatus
from codegenapp.drivers.forge import CommitState, Forge
from codegenapp.drivers.sandbox import SandboxHandle
from codegenapp.flows import merge
from codegenapp.flows.project_secrets import opened_secrets
from codegenapp.flows.reporting import best_effort
from codegenapp.flows.runtime import current
from codegenapp.steps import StepContext
from codegenapp.steps.pipeline import Attempt, AttemptReport

log = logging.getLogger(__name__)
QUEUE = "validations"
# How often a waiting agent run looks for its validation's verdict (DBOS polls for a child's
# result; its default of 1 s would add up to a second to every validation).
RESULT_POLL_SEC = 0.02
STATUS_CONTEXT = "codegenapp/validation"


def workflow_id(validation_id: int) -> str:
    return f"validation-{validation_id}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    validation_id: int
    status: ValidationStatus
    attempt: int
    pr_number: int
    head_sha: str
    reason: str
    failed_step: str | None
    signature: str | None
    merged: bool
    merge_sha: str | None
    merge_blocked_reason: str | None


@DBOS.workflow(name="validation")
async def validation_flow(validation_id: int) -> ValidationReport:
    try:
        attempt = await run_attempt(validation_id)
        report = await conclude(validation_id, attempt)
        if report.status is ValidationStatus.PASSED:
            await merge.merge_if_allowed(validation_id)
    except Exception as error:
        # Our failure, not the pull request's: close the validation as an error so that
        # nothing waits on it forever, and say what happened.
        log.exception("validation %s stopped on an internal error", validation_id)
        await close_on_error(validation_id, f"internal error: {type(error).__name__}: {error}")
    return await read_report(validation_id)


@DBOS.step(name="validation.close_on_error")
async def close_on_error(validation_id: int, reason: str) -> None:
    async with current().database.transaction() as session:
        await validations.finish_validation(
            session, validation_id, status=ValidationStatus.ERROR, failed_step=None, reason=reason
        )


def _masker(plain: Mapping[str, str], secrets: Mapping[str, str]) -> Masker:
    """Built once per attempt: our own credentials, the project's secrets, and any plain
    variable whose name says it is a credential."""
    return Masker.for_environment(plain, extra=current().secrets(secrets.values()))


@DBOS.step(name="validation.attempt", preemptible=True)
async def run_attempt(validation_id: int) -> AttemptReport:
    """Run (or, after a crash, run again) the pipeline on a fresh sandbox."""
    runtime = current()
    async with runtime.database.transaction() as session:
        validation = await validations.begin_validation(session, validation_id)
        project = await projects.get_project(session, validation.project_id)
        leftover = validation.sandbox
        secrets = await opened_secrets(session, validation.project_id) if project else {}
    if ValidationStatus(validation.status).is_final or project is None:
        return AttemptReport(ValidationStatus.CANCELLED, "the validation was closed before it ran")
    if leftover:
        stale = SandboxHandle.from_stored(leftover)
        await runtime.drivers.sandbox(stale.driver).destroy(stale)
    settings = projects.settings_of(project)
    sandbox = runtime.drivers.sandbox(settings.deployment_settings.sandbox)
    forge = runtime.drivers.forge(project.repository)
    pending = _commit_status(
        forge,
        project.repository,
        validation.head_sha,
        CommitState.PENDING,
        f"attempt {validation.attempt} running",
        enabled=settings.notification_settings.github_status_updates,
    )
    ctx = StepContext(
        validation_id=validation_id,
        project_id=project.id,
        repository=project.repository,
        head_sha=validation.head_sha,
        settings=settings,
        forge=forge,
        sandbox=sandbox,
        secrets=secrets,
        masker=_masker(settings.deployment_settings.environment_variables, secrets),
        deadline=time.monotonic() + settings.validation_settings.timeout_minutes * 60,
    )
    report, _ = await asyncio.gather(
        Attempt(ctx, database=runtime.database, bus=runtime.bus).run(), pending
    )
    return report


async def _commit_status(
    forge: Forge, repository: str, sha: str, state: CommitState, description: str, *, enabled: bool
) -> None:
    if enabled:
        await best_effort(
            "set the commit status",
            forge.set_commit_status(
                repository, sha, context=STATUS_CONTEXT, state=state, description=description[:140]
            ),
        )


@DBOS.step(name="validation.conclude")
async def conclude(validation_id: int, attempt: AttemptReport) -> ValidationReport:
    """Record the verdict; a failure also gets its error context, ready for the agent."""
    runtime = current()
    async with runtime.database.read() as session:
        validation = await validations.require_validation(session, validation_id)
        project = await projects.get_project(session, validation.project_id)
    if project is None or ValidationStatus(validation.status).is_final:
        return await read_report(validation_id)
    settings = projects.settings_of(project)
    context = None
    if attempt.status is ValidationStatus.FAILED and attempt.failed_step is not None:
        # The attempt condensed and masked its log and the health answer already.
        context = ErrorContext(
            attempt=validation.attempt,
            pr_number=validation.pr_number,
            head_sha=validation.head_sha,
            failed_step=attempt.failed_step.value,
            failed_check=attempt.failed_check.value if attempt.failed_check else None,
            exit_code=attempt.exit_code,
            reason=attempt.reason,
            log_tail=attempt.log_tail,
            health_answer=attempt.health_answer,
            log_step=attempt.log_step.value if attempt.log_step else "",
        )
    status = _commit_status(
        runtime.drivers.forge(project.repository),
        project.repository,
        validation.head_sha,
        CommitState.SUCCESS if attempt.status is ValidationStatus.PASSED else CommitState.FAILURE,
        attempt.reason,
        enabled=settings.notification_settings.github_status_updates,
    )
    await asyncio.gather(_record_verdict(validation_id, attempt, settings, context), status)
    return await read_report(validation_id)


async def _record_verdict(
    validation_id: int,
    attempt: AttemptReport,
    settings: ProjectSettings,
    context: ErrorContext | None,
) -> None:
    async with current().database.transaction() as session:
        await validations.finish_validation(
            session,
            validation_id,
            status=attempt.status,
            failed_step=attempt.failed_step,
            reason=attempt.reason,
            error_context=render_fix_prompt(
                context, max_attempts=settings.validation_settings.max_retries + 1
            )
            if context
            else None,
            error_signature=context.signature if context else None,
        )


async def read_report(validation_id: int) -> ValidationReport:
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
    return ValidationReport(
        validation_id=validation.id,
        status=ValidationStatus(validation.status),
        attempt=validation.attempt,
        pr_number=validation.pr_number,
        head_sha=validation.head_sha,
        reason=validation.reason or "",
        failed_step=validation.failed_step,
        signature=validation.error_signature,
        merged=validation.merged,
        merge_sha=validation.merge_sha,
        merge_blocked_reason=validation.merge_blocked_reason,
    )
