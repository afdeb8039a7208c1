"""The agent-run flow, the product's story in one screen:

    goal → agent → reply                                     → completed
                 → plan → person confirms / modifies → agent ↺
                 → pull request → read → validate → merged   → completed
                                   │             → failed → error context → agent fix → read ↺
                                   │               (up to max_retries; same failure twice: stop)
                                   └ bends the gate → person approves → validate (or cancels)

Each head is read before it is validated (`change_guard`): one that skips or deletes tests,
drops assertions or edits CI waits for a person's approval; one that strays from the plan a
person confirmed is flagged.

Each workflow carries one *segment* of a run: the first starts with the goal, a `continue`
starts the next one with the person's message. Workflow ids are `agent-run-<id>-<segment>`.
"""

import logging

from dbos import DBOS, SetWorkflowID

from codegenapp.db.queries import agent_runs, projects, pull_requests, validations
from codegenapp.domain.states import AgentRunStatus, ValidationStatus
from codegenapp.flows import agent_turns, change_guard, forge_reports
from codegenapp.flows.agent_turns import TurnKind, TurnOutcome
from codegenapp.flows.runtime import current
from codegenapp.flows.validation import (
    QUEUE,
    RESULT_POLL_SEC,
    ValidationReport,
    validation_flow,
    workflow_id,
)

log = logging.getLogger(__name__)
PLAN_TOPIC = "plan-answer"
PLAN_RECHECK_SEC = 300


def run_workflow_id(run_id: int, segment: int) -> str:
    return f"agent-run-{run_id}-{segment}"


@DBOS.workflow(name="agent_run")
async def agent_run_flow(run_id: int) -> None:
    try:
        await _story(run_id)
    except Exception as error:
        # A bug or an outage must not leave the run looking alive forever.
        log.exception("agent run %s stopped on an internal error", run_id)
        await finish(
            run_id, AgentRunStatus.FAILED, f"Internal error: {type(error).__name__}: {error}"
        )


async def _story(run_id: int) -> None:
    turn, message = await agent_turns.open_segment(run_id)
    if message is None:
        marker = await agent_turns.start(run_id, turn)
    else:
        marker = await agent_turns.resume(
            run_id, turn, message, "Sent your message to the agent", "message"
        )
    outcome = await agent_turns.wait_for_turn(run_id, marker)
    while outcome.kind is TurnKind.PLAN:
        answer = await wait_for_plan_answer(run_id)
        spent = await agent_turns.over_budget(run_id)
        if spent is not None:
            await finish(run_id, AgentRunStatus.FAILED, spent)
            return
        turn += 1
        marker = await agent_turns.resume(
            run_id, turn, answer, "Sent the plan answer to the agent", "plan_answer"
        )
        outcome = await agent_turns.wait_for_turn(run_id, marker)
    if outcome.kind is TurnKind.PULL_REQUEST:
        await validate_until_settled(run_id, outcome, turn)
    elif outcome.kind is TurnKind.REPLY:
        await finish(run_id, AgentRunStatus.COMPLETED, outcome.text)
    elif outcome.kind is TurnKind.FAILED:
        await finish(run_id, AgentRunStatus.FAILED, f"The agent failed: {outcome.text}")
    elif outcome.kind is TurnKind.OVER_BUDGET:
        await finish(run_id, AgentRunStatus.FAILED, outcome.text)
    else:
        await finish(run_id, AgentRunStatus.CANCELLED, outcome.text)


async def wait_for_plan_answer(run_id: int) -> str:
    """Wait for the person's answer, stored by the API; a message only wakes us early."""
    while True:
        answer = await read_plan_answer(run_id)
        if answer is not None:
            return answer
        await DBOS.recv_async(PLAN_TOPIC, timeout_seconds=PLAN_RECHECK_SEC)


@DBOS.step(name="agent_run.read_plan_answer")
async def read_plan_answer(run_id: int) -> str | None:
    async with current().database.read() as session:
        run = await agent_runs.require_run(session, run_id)
    if run.plan_answer is None:
        return None
    if run.plan_answer.get("action") == "confirm":
        return "The plan is confirmed. Go ahead and implement it."
    return f"Change the plan as follows, then go ahead:\n{run.plan_answer.get('text', '')}"


async def validate_until_settled(run_id: int, outcome: TurnOutcome, turn: int) -> None:
    """Validate the pull request; on failure hand the error context to the agent and validate
    its fix, until it passes, the retries run out, or the same failure comes back."""
    previous_signature: str | None = None
    while True:
        assert outcome.pull_request_id is not None
        validation_id = await queue_cleared_head(run_id, outcome.pull_request_id)
        if validation_id is None:
            return
        with SetWorkflowID(workflow_id(validation_id)):
            handle = await DBOS.enqueue_workflow_async(QUEUE, validation_flow, validation_id)
        forge_reports.report_in_background(validation_id)
        report = await handle.get_result(polling_interval_sec=RESULT_POLL_SEC)
        max_retries = await read_max_retries(run_id)
        verdict = _verdict(report, previous_signature, max_retries)
        if verdict is not None:
            await finish(run_id, *verdict)
            return
        previous_signature = report.signature
        spent = await agent_turns.over_budget(run_id)
        if spent is not None:
            await finish(run_id, AgentRunStatus.FAILED, spent)
            return
        turn += 1
        prompt = await read_error_context(validation_id)
        marker = await agent_turns.request_fix(run_id, turn, validation_id, prompt, report.attempt)
        outcome = await agent_turns.wait_for_turn(run_id, marker)
        if outcome.kind is TurnKind.OVER_BUDGET:
            await finish(run_id, AgentRunStatus.FAILED, outcome.text)
            return
        if outcome.kind is not TurnKind.PULL_REQUEST:
            await finish(
                run_id,
                AgentRunStatus.FAILED,
                f"Needs a human: asked to fix validation {validation_id}, the agent answered "
                f"without pushing a fix: {outcome.text}",
            )
            return


def _verdict(
    report: ValidationReport, previous_signature: str | None, max_retries: int
) -> tuple[AgentRunStatus, str] | None:
    """How the run ends after this validation, or None to ask the agent for a fix."""
    pr = f"pull request #{report.pr_number}"
    if report.status is ValidationStatus.PASSED:
        if report.merged:
            return AgentRunStatus.COMPLETED, (
                f"Merged {pr} at {report.head_sha[:12]} after {report.attempt} validation "
                f"attempt{'s' if report.attempt > 1 else ''}."
            )
        return (
            AgentRunStatus.COMPLETED,
            f"Validated {pr}; not merged: {report.merge_blocked_reason}",
        )
    if report.status is ValidationStatus.CANCELLED:
        return AgentRunStatus.CANCELLED, "The validation was cancelled."
    if report.status is ValidationStatus.ERROR:
        return (
            AgentRunStatus.FAILED,
            f"Needs a human: the validation could not run: {report.reason}",
        )
    if report.attempt > max_retries:
        return AgentRunStatus.FAILED, (
            f"Needs a human: {pr} failed validation {report.attempt} times "
            f"(max_retries is {max_retries}); last failure at {report.failed_step}: {report.reason}"
        )
    if previous_signature is not None and report.signature == previous_signature:
        return AgentRunStatus.FAILED, (
            f"Needs a human: {pr} failed the same way twice in a row, at "
            f"{report.failed_step}: {report.reason}"
        )
    return None


async def queue_cleared_head(run_id: int, pull_request_id: int) -> int | None:
    """The validation of the pull request's head once that head is cleared (read, and approved
    by a person if it bends the gate); None once the run is finished because the pull request
    closed first."""
    while True:
        head = await change_guard.cleared_head(run_id, pull_request_id)
        if head.head_sha is None:
            await finish(run_id, AgentRunStatus.FAILED, f"Needs a human: {head.note}.")
            return None
        validation_id = await queue_validation(run_id, pull_request_id, head.head_sha)
        if validation_id is not None:
            return validation_id
        # The head moved after it was read: read the new one.


@DBOS.step(name="agent_run.queue_validation")
async def queue_validation(run_id: int, pull_request_id: int, head_sha: str) -> int | None:
    """Create the next validation attempt for the pull request's head `head_sha`, the one just
    cleared; None if the pull request has moved on from it since. Idempotent: an unfinished
    validation of that head is reused. So is one its forge's webhook made for that head before
    this run got to it (it becomes the run's): a head is validated once."""
    async with current().database.transaction() as session:
        pr = await pull_requests.require_pull_request(session, pull_request_id, lock=True)
        if pr.head_sha != head_sha:
            return None
        await agent_runs.mark_validating(session, run_id, pull_request_id=pull_request_id)
        existing = await validations.unfinished_validation(session, pull_request_id)
        if existing is not None and existing.head_sha != head_sha:
            existing = None
        if existing is None:
            earlier = await validations.validation_of_head(session, pull_request_id, pr.head_sha)
            existing = earlier if earlier and earlier.agent_run_id is None else None
        if existing is not None:
            if existing.agent_run_id is None:
                await validations.assign_to_run(session, existing.id, run_id)
            return existing.id
        attempt = await validations.next_attempt(session, pull_request_id)
        validation = await validations.create_validation(
            session, pull_request=pr, agent_run_id=run_id, attempt=attempt
        )
        return validation.id


@DBOS.step(name="agent_run.read_max_retries")
async def read_max_retries(run_id: int) -> int:
    async with current().database.read() as session:
        run = await agent_runs.require_run(session, run_id)
        project = await projects.get_project(session, run.project_id)
    if project is None:
        return 0
    return projects.settings_of(project).validation_settings.max_retries


@DBOS.step(name="agent_run.read_error_context")
async def read_error_context(validation_id: int) -> str:
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
    return validation.error_context or f"Validation {validation_id} failed: {validation.reason}"


@DBOS.step(name="agent_run.finish")
async def finish(run_id: int, status: AgentRunStatus, result: str) -> None:
    async with current().database.transaction() as session:
        await agent_runs.finish_run(session, run_id, status=status, result=result)
