"""The validation flow: one attempt on a pull request's head, the triage of a failure, then the
verdict and the merge.

    base, a child workflow beside the attempt (the base's sha, its baseline queued): a
      forge call that the attempt's first step need not wait for
    attempt (snapshot → clone → deploy → health → web_eval → cleanup; once more in a fresh
             sandbox if the sandbox itself failed)
      → the base's answer
      → triage (whose fault: the code's, the settings' if the base fails the same way, ours)
      → conclude (status, checks, error context; on the forge: check runs or statuses, and
                  the pull request's report comment after a failure)
      → merge if passed and allowed (merge.py); the base moved, so its baseline is started

A baseline (the base branch at one sha) runs the same flow without a pull request: no triage,
no merge, and its downloads may be kept in the project's dependency cache.

The attempt is one durable step: a sandbox does not outlive the worker that ran it, so after
a crash the attempt starts again from a fresh sandbox (docs/adr/0003).
"""

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync

from codegenapp.db.queries import agent_runs, projects, validations
from codegenapp.db.tables import ProjectRow, ValidationRow
from codegenapp.domain.error_context import ErrorContext, render_fix_prompt, where_it_ran
from codegenapp.domain.lifecycles import ValidationMove
from codegenapp.domain.masking import Masker
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import Fault, ValidationKind, ValidationStatus
from codegenapp.drivers.forge import ChangeRequest
from codegenapp.drivers.sandbox import SandboxHandle
from codegenapp.errors import ForgeError
from codegenapp.flows import ended_runs, forge_reports, merge
from codegenapp.flows import pull_request_heads as heads
from codegenapp.flows.project_secrets import opened_secrets
from codegenapp.flows.runtime import current
from codegenapp.steps import BaseScreenshots, StepContext
from codegenapp.steps.pipeline import Attempt, AttemptReport

log = logging.getLogger(__name__)
QUEUE = "validations"
BASELINE_QUEUE = "baselines"  # apart: a pull request's validation waits on its baseline
# How often a waiting agent run looks for its validation's verdict (DBOS polls for a child's
# result; its default of 1 s would add up to a second to every validation).
RESULT_POLL_SEC = 0.02


def workflow_id(validation_id: int) -> str:
    return f"validation-{validation_id}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    validation_id: int
    kind: ValidationKind
    status: ValidationStatus
    fault: Fault | None
    attempt: int
    pr_number: int | None
    head_sha: str
    reason: str
    failed_step: str | None
    failed_check: str | None
    signature: str | None
    merged: bool
    merge_sha: str | None
    merge_blocked_reason: str | None


@DBOS.workflow(name="validation")
async def validation_flow(validation_id: int) -> ValidationReport:
    try:
        base = await DBOS.start_workflow_async(base_flow, validation_id)
        attempt = await run_attempt(validation_id)
        baseline_id = await base.get_result(polling_interval_sec=RESULT_POLL_SEC)
        fault = await triage(attempt, baseline_id)
        report = await conclude(validation_id, attempt, fault)
        passed = report.status is ValidationStatus.PASSED
        if passed and report.kind is ValidationKind.PULL_REQUEST:
            outcome = await merge.merge_if_allowed(validation_id)
            if outcome.merged:  # the base moved: validate it as it is now
                await launch_baseline_after_merge(validation_id)
            elif outcome.moved is not None:  # refused: a push came after the validation
                await validate_moved_head(validation_id, outcome.moved)
            await settle_ended_run(validation_id)
    except Exception as error:
        # Our failure, not the pull request's: close the validation as an error so that
        # nothing waits on it forever, and say what happened.
        log.exception("validation %s stopped on an internal error", validation_id)
        await close_on_error(validation_id, f"internal error: {type(error).__name__}: {error}")
    return await read_report(validation_id)


async def launch_on_baseline_queue(validation_id: int) -> None:
    """Start a baseline's workflow (once: its id is fixed), from a workflow or not."""
    with SetWorkflowID(workflow_id(validation_id)):
        await DBOS.enqueue_workflow_async(BASELINE_QUEUE, validation_flow, validation_id)


async def launch_baseline(project_id: int) -> int | None:
    """Validate the project's base branch as it is now, unless that was done (or started)
    under the same settings; the baseline's id, or None (no branch, or baselines are off)."""
    baseline_id = await ensure_baseline(project_id, None)
    if baseline_id is not None:
        await launch_on_baseline_queue(baseline_id)
    return baseline_id


@DBOS.workflow(name="validation.base")
async def base_flow(validation_id: int) -> int | None:
    """The base a validation is compared with, and its baseline (queued if new): apart from
    the attempt, since reading the base branch's head is a forge call (a round trip to
    GitHub) that the attempt's first step need not wait for. A forge that cannot say leaves
    the validation without a baseline: its failures are then taken for the code's."""
    try:
        baseline_id = await prepare(validation_id)
    except ForgeError as error:
        log.warning("validation %s has no baseline: %s", validation_id, error)
        return None
    if baseline_id is not None:
        await launch_on_baseline_queue(baseline_id)
    return baseline_id


@DBOS.step(name="validation.prepare")
async def prepare(validation_id: int) -> int | None:
    """For a pull request's validation: record the settings and the base's sha it runs with,
    and find or make the base's baseline (its id, or None)."""
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
    if validation.kind == ValidationKind.BASELINE or ValidationStatus(validation.status).is_final:
        return None
    return await ensure_baseline(validation.project_id, validation_id)


async def ensure_baseline(
    project_id: int, validation_id: int | None, *, again: bool = False
) -> int | None:
    """The baseline of the project's base branch as it is now, made if needed (or `again`
    in any case); with a `validation_id`, also record the base and settings that validation
    is compared with."""
    runtime = current()
    async with runtime.database.read() as session:
        project = await projects.get_project(session, project_id)
    if project is None:
        return None
    settings = projects.settings_of(project)
    digest = settings.digest()
    wanted = settings.validation_settings.validate_base_branch
    if not wanted and validation_id is None:
        return None
    branch = project.default_branch
    sha = await runtime.drivers.forge(projects.forge_of(project)).branch_head(
        project.repository, branch
    )
    async with runtime.database.transaction() as session:
        if validation_id is not None:
            await validations.record_base(
                session, validation_id, base_sha=sha, settings_digest=digest
            )
        if sha is None or not wanted:
            return None
        found = None
        if not again:
            found = await validations.find_baseline(
                session, project_id=project_id, sha=sha, settings_digest=digest
            )
        if found is None:
            found = await validations.create_baseline(
                session, project_id=project_id, branch=branch, sha=sha, settings_digest=digest
            )
        return found.id


async def validate_moved_head(validation_id: int, change: ChangeRequest) -> None:
    """Validate the pull request's new head, as its webhook would have asked (that webhook
    may still come, or have been lost: the head is validated once either way)."""
    plan = await record_moved_head(validation_id, change)
    for queued in plan.queued:
        with SetWorkflowID(workflow_id(queued)):
            await DBOS.enqueue_workflow_async(QUEUE, validation_flow, queued)
        forge_reports.report_in_background(queued)


@DBOS.step(name="validation.head_moved")
async def record_moved_head(validation_id: int, change: ChangeRequest) -> heads.Plan:
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
        project = await projects.get_project(session, validation.project_id)
    if project is None:
        return heads.Plan("the project was deleted")
    return await heads.new_head(project, heads.as_event(project, change))


@DBOS.step(name="validation.baseline_after_merge")
async def ensure_baseline_after_merge(validation_id: int) -> int | None:
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
    return await ensure_baseline(validation.project_id, None)


async def launch_baseline_after_merge(validation_id: int) -> None:
    baseline_id = await ensure_baseline_after_merge(validation_id)
    if baseline_id is not None:
        await launch_on_baseline_queue(baseline_id)


@DBOS.step(name="validation.settle_ended_run")
async def settle_ended_run(validation_id: int) -> None:
    """A retry by hand that passed completes its ended run (see `ended_runs`); a run still
    validating is its own workflow's to settle, so this changes nothing for it."""
    await ended_runs.settle_ended_run(validation_id, how="a retry by hand")


@DBOS.step(name="validation.close_on_error")
async def close_on_error(validation_id: int, reason: str) -> None:
    async with current().database.transaction() as session:
        await validations.finish_validation(
            session,
            validation_id,
            status=ValidationStatus.ERROR,
            by=ValidationMove.ABORT,
            failed_step=None,
            reason=reason,
            fault=Fault.INFRASTRUCTURE,
        )
    await forge_reports.report_validation(validation_id)


def _masker(plain: Mapping[str, str], secrets: Mapping[str, str]) -> Masker:
    """Built once per attempt: our own credentials, the project's secrets, and any plain
    variable whose name says it is a credential."""
    return Masker.for_environment(plain, extra=current().secrets(secrets.values()))


@DBOS.step(name="validation.attempt", preemptible=True)
async def run_attempt(validation_id: int) -> AttemptReport:
    """Run (or, after a crash, run again) the pipeline on a fresh sandbox. If the sandbox
    itself failed (it could not start, the daemon went away), try once more in a fresh one."""
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
    progress = forge_reports.Progress(lambda: forge_reports.report_validation(validation_id))
    progress.poke()  # the check run appears as the attempt starts
    try:
        report = await _attempt(validation, project, secrets, progress.poke)
        if report.status is ValidationStatus.ERROR:
            why = f"the sandbox failed ({report.reason}); trying once more in a fresh one"
            async with runtime.database.transaction() as session:
                await validations.restart_steps(session, validation_id, why)
            progress.poke()
            report = await _attempt(validation, project, secrets, progress.poke)
    except asyncio.CancelledError:
        # Superseded, closed or cancelled by a person: the validation was closed in the
        # database before its workflow was cancelled, so the last report shows that.
        progress.finish_detached()
        raise
    await progress.settle()
    return report


async def _attempt(
    validation: ValidationRow,
    project: ProjectRow,
    secrets: Mapping[str, str],
    on_step: Callable[[], None],
) -> AttemptReport:
    runtime = current()
    settings = projects.settings_of(project)
    web_eval = settings.validation_settings.web_eval
    judged = web_eval is not None and web_eval.judge is not False
    # The plan may hold acceptance checks: web_eval runs them, or says they need it.
    goal, plan = await _goal_and_plan(validation.agent_run_id)
    ctx = StepContext(
        validation_id=validation.id,
        kind=ValidationKind(validation.kind),
        project_id=project.id,
        repository=project.repository,
        head_sha=validation.head_sha,
        settings=settings,
        forge=runtime.drivers.forge(projects.forge_of(project)),
        sandbox=runtime.drivers.sandbox(settings.deployment_settings.sandbox),
        secrets=secrets,
        masker=_masker(settings.deployment_settings.environment_variables, secrets),
        deadline=time.monotonic() + settings.validation_settings.timeout_minutes * 60,
        evaluator=runtime.drivers.evaluator(),
        artifacts_root=runtime.settings.artifacts_root,
        judge=runtime.drivers.judge() if judged else None,
        goal=goal,
        plan=plan,
        base_screenshots=await _base_screenshots(validation, settings),
    )
    return await Attempt(ctx, database=runtime.database, bus=runtime.bus, on_step=on_step).run()


async def _base_screenshots(
    validation: ValidationRow, settings: ProjectSettings
) -> BaseScreenshots | None:
    """What web_eval compares a pull request's pages with: the latest finished baseline under
    these settings (one read; none for a baseline, or without web_eval or baselines)."""
    wanted = settings.validation_settings
    if (
        validation.kind != ValidationKind.PULL_REQUEST
        or wanted.web_eval is None
        or not wanted.validate_base_branch
    ):
        return None
    async with current().database.read() as session:
        base = await validations.latest_finished_baseline(
            session, project_id=validation.project_id, settings_digest=settings.digest()
        )
    if base is None:
        return None
    branch = base.base_branch or "the base branch"
    return BaseScreenshots(base.id, f"{branch} at {base.head_sha[:7]}")


async def _goal_and_plan(agent_run_id: int | None) -> tuple[str | None, str | None]:
    """The goal of the validation's agent run and the plan a person confirmed, for the AI
    judge and the plan's acceptance checks; (None, None) without an agent run (no read)."""
    if agent_run_id is None:
        return None, None
    async with current().database.read() as session:
        run = await agent_runs.get_run(session, agent_run_id)
    return (run.goal, run.confirmed_plan) if run is not None else (None, None)


async def triage(attempt: AttemptReport, baseline_id: int | None) -> Fault | None:
    """Whose fault a verdict other than a pass is. A failure is the code's unless the base
    branch, validated with the same settings, failed the same way (then it is the settings')."""
    if attempt.status is ValidationStatus.ERROR:
        return Fault.INFRASTRUCTURE
    if attempt.status is not ValidationStatus.FAILED:
        return None
    if baseline_id is None:
        return Fault.CODE
    handle: WorkflowHandleAsync[ValidationReport] = await DBOS.retrieve_workflow_async(
        workflow_id(baseline_id)
    )
    base = await handle.get_result(polling_interval_sec=RESULT_POLL_SEC)
    same = (
        base.status is ValidationStatus.FAILED
        and base.signature is not None
        and base.signature == attempt.signature
    )
    return Fault.SETUP if same else Fault.CODE


@DBOS.step(name="validation.conclude")
async def conclude(
    validation_id: int, attempt: AttemptReport, fault: Fault | None
) -> ValidationReport:
    """Record the verdict; a failure also gets its error context, ready for the agent, unless
    it is the setup's fault: then the validation ends as an error and no agent is asked."""
    runtime = current()
    async with runtime.database.read() as session:
        validation = await validations.require_validation(session, validation_id)
        project = await projects.get_project(session, validation.project_id)
        baseline = (
            await validations.find_baseline(
                session,
                project_id=validation.project_id,
                sha=validation.base_sha,
                settings_digest=validation.settings_digest or "",
            )
            if fault is Fault.SETUP and validation.base_sha
            else None
        )
    if project is None or ValidationStatus(validation.status).is_final:
        return await read_report(validation_id)
    status, reason = attempt.status, attempt.reason
    if fault is Fault.SETUP:
        status = ValidationStatus.ERROR
        where = f"{validation.base_branch} at {(validation.base_sha or '')[:12]}"
        seen = f" (baseline validation {baseline.id})" if baseline else ""
        reason = (
            f"the base branch fails here too: {where}{seen} failed the same way ({reason}). "
            "Fix the project's settings; the pull request was not sent back to the agent"
        )
    settings = projects.settings_of(project)
    sandbox = runtime.drivers.sandbox(settings.deployment_settings.sandbox)
    where = where_it_ran(
        sandbox.name, isolated=sandbox.isolated, deployment=settings.deployment_settings
    )
    context = _error_context(validation, attempt, where)
    async with runtime.database.transaction() as session:
        await validations.finish_validation(
            session,
            validation_id,
            status=status,
            by=ValidationMove.CONCLUDE,
            failed_step=attempt.failed_step,
            failed_check=attempt.failed_check.value if attempt.failed_check else None,
            fault=fault,
            reason=reason,
            error_context=render_fix_prompt(
                context, max_attempts=settings.validation_settings.max_retries + 1
            )
            if context
            else None,
            error_signature=attempt.signature,
        )
    await asyncio.gather(
        forge_reports.report_validation(validation_id, log_tail=attempt.log_tail),
        forge_reports.comment_on_failure(validation_id, log_tail=attempt.log_tail),
    )
    return await read_report(validation_id)


def _error_context(
    validation: ValidationRow, attempt: AttemptReport, where: str
) -> ErrorContext | None:
    if attempt.status is not ValidationStatus.FAILED or attempt.failed_step is None:
        return None
    # The attempt condensed and masked its log and the health answer already.
    return ErrorContext(
        attempt=validation.attempt,
        pr_number=validation.pr_number or 0,
        head_sha=validation.head_sha,
        failed_step=attempt.failed_step.value,
        failed_check=attempt.failed_check.value if attempt.failed_check else None,
        exit_code=attempt.exit_code,
        reason=attempt.reason,
        log_tail=attempt.log_tail,
        health_answer=attempt.health_answer,
        log_step=attempt.log_step.value if attempt.log_step else "",
        where_it_ran=where,
    )


async def read_report(validation_id: int) -> ValidationReport:
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
    return ValidationReport(
        validation_id=validation.id,
        kind=ValidationKind(validation.kind),
        status=ValidationStatus(validation.status),
        fault=Fault(validation.fault) if validation.fault else None,
        attempt=validation.attempt,
        pr_number=validation.pr_number,
        head_sha=validation.head_sha,
        reason=validation.reason or "",
        failed_step=validation.failed_step,
        failed_check=validation.failed_check,
        signature=validation.error_signature,
        merged=validation.merged,
        merge_sha=validation.merge_sha,
        merge_blocked_reason=validation.merge_blocked_reason,
    )
