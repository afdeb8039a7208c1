"""What people can ask of runs and validations. Every API write lands in one of these.

Each action first changes our tables (refusing with `Conflict` what the state does not allow),
then starts or signals the workflow. A crash between the two is repaired at start-up by
`reconcile.py`.
"""

import contextlib
import logging

from dbos import DBOS, SetWorkflowID
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import agent_runs, projects, pull_requests, validations
from codegenapp.db.tables import AgentRunRow, ProjectRow, ValidationRow
from codegenapp.domain.idempotency import IdempotentRequest
from codegenapp.domain.lifecycles import ValidationMove
from codegenapp.domain.states import AgentRunStatus, ValidationStatus
from codegenapp.drivers.agent import AgentJob
from codegenapp.drivers.forge import ChangeRequest, ChangeState
from codegenapp.errors import Conflict, InvalidInput, NotFound
from codegenapp.flows import budgets, ended_runs, forge_reports, merge
from codegenapp.flows.agent_run import PLAN_TOPIC, agent_run_flow, run_workflow_id
from codegenapp.flows.change_guard import APPROVAL_TOPIC
from codegenapp.flows.once import once
from codegenapp.flows.runtime import current
from codegenapp.flows.validation import (
    QUEUE,
    ensure_baseline,
    launch_on_baseline_queue,
    validation_flow,
    workflow_id,
)

log = logging.getLogger(__name__)
RUN_QUEUE = "agent-runs"


async def launch_segment(run_id: int, segment: int) -> None:
    """Start (idempotently: the workflow id is fixed) the workflow of one run segment."""
    with SetWorkflowID(run_workflow_id(run_id, segment)):
        await DBOS.enqueue_workflow_async(RUN_QUEUE, agent_run_flow, run_id)


async def launch_validation(validation_id: int) -> None:
    with SetWorkflowID(workflow_id(validation_id)):
        await DBOS.enqueue_workflow_async(QUEUE, validation_flow, validation_id)
    forge_reports.report_in_background(validation_id)


async def start_run(
    *, project_id: int, goal: str, request: IdempotentRequest | None = None
) -> AgentRunRow:
    """Create the run and start its workflow. With `request`, a retry with the same key gets
    the run the first one made (started, if a crash came between the two)."""
    goal = goal.strip()
    if not goal:
        raise InvalidInput("goal", "must not be empty: say what the agent should do")

    async def make(session: AsyncSession) -> tuple[AgentRunRow, int]:
        project = await projects.get_project(session, project_id, lock=True)
        if project is None:
            raise NotFound(f"project {project_id} does not exist")
        await budgets.refuse_run_over_budget(session, project)
        run = await agent_runs.create_run(session, project_id=project_id, goal=goal)
        return run, run.id

    run, _ = await once(request, scope="agent-runs", make=make, find=agent_runs.require_run)
    if run.status == AgentRunStatus.PENDING:
        await launch_segment(run.id, run.segment)  # a fixed workflow id: starts it at most once
    return run


async def answer_plan(run_id: int, *, action: str, text: str) -> AgentRunRow:
    if action == "modify" and not text.strip():
        raise InvalidInput("text", "is required when action is 'modify': say what to change")
    async with current().database.transaction() as session:
        run = await agent_runs.store_plan_answer(session, run_id, action=action, text=text.strip())
    # Only a wake-up call: the workflow reads the answer from the table, and re-checks it
    # every few minutes, so a lost message delays the run but cannot strand it.
    try:
        await DBOS.send_async(run_workflow_id(run_id, run.segment), "answer", topic=PLAN_TOPIC)
    except Exception:
        log.warning("could not wake agent run %s; it will see the answer shortly", run_id)
    return run


async def approve_change(run_id: int) -> AgentRunRow:
    """A person approves the change the run holds (it bends the gate): the run validates it.
    `Conflict` unless the run waits for that approval."""
    async with current().database.transaction() as session:
        run = await agent_runs.approve_change(session, run_id)
    # Only a wake-up call, as for a plan answer: the workflow reads the approval from the table.
    try:
        await DBOS.send_async(
            run_workflow_id(run_id, run.segment), "approved", topic=APPROVAL_TOPIC
        )
    except Exception:
        log.warning("could not wake agent run %s; it will see the approval shortly", run_id)
    return run


async def continue_run(run_id: int, *, message: str) -> AgentRunRow:
    message = message.strip()
    if not message:
        raise InvalidInput("message", "must not be empty")
    async with current().database.transaction() as session:
        run = await agent_runs.begin_segment(session, run_id, message=message)
    await launch_segment(run.id, run.segment)
    return run


async def cancel_run(run_id: int) -> AgentRunRow:
    runtime = current()
    async with runtime.database.transaction() as session:
        run = await agent_runs.require_run(session, run_id)
        if AgentRunStatus(run.status).is_final:
            raise Conflict(f"agent run {run_id} is already {run.status}")
        run = await agent_runs.finish_run(
            session, run_id, status=AgentRunStatus.CANCELLED, result="Cancelled by a person."
        )
        open_ids = await _close_open_validations(session, run_id)
        project = await projects.get_project(session, run.project_id)
    await DBOS.cancel_workflow_async(run_workflow_id(run_id, run.segment))
    for validation_id in open_ids:
        await DBOS.cancel_workflow_async(workflow_id(validation_id))
        forge_reports.report_in_background(validation_id)
    if project is not None and run.agent_driver and run.agent_job_id:
        agent = runtime.drivers.agent(projects.agent_settings_of(project))
        with contextlib.suppress(Exception):  # the run is cancelled on our side regardless
            await agent.cancel(AgentJob(driver=run.agent_driver, external_id=run.agent_job_id))
    return run


async def _close_open_validations(session: AsyncSession, run_id: int) -> list[int]:
    closed = []
    for validation_id in await validations.validation_ids_of_run(session, run_id):
        validation = await validations.require_validation(session, validation_id)
        if not ValidationStatus(validation.status).is_final:
            await validations.finish_validation(
                session,
                validation_id,
                status=ValidationStatus.CANCELLED,
                by=ValidationMove.CANCEL,
                failed_step=None,
                reason="the agent run was cancelled",
            )
            closed.append(validation_id)
    return closed


async def retry_validation(validation_id: int) -> ValidationRow:
    """Validate the pull request's current head again, as a new attempt; for a baseline, the
    base branch as it is now (after its settings were fixed, say)."""
    runtime = current()
    async with runtime.database.read() as session:
        validation = await validations.require_validation(session, validation_id)
    if validation.pull_request_id is None:
        return await _retry_baseline(validation)
    async with runtime.database.read() as session:
        pr = await pull_requests.require_pull_request(session, validation.pull_request_id)
        project = await projects.get_project(session, validation.project_id)
        run = await agent_runs.get_run(session, validation.agent_run_id or 0)
    if not ValidationStatus(validation.status).is_final:
        raise Conflict(f"validation {validation_id} is still {validation.status}")
    if pr.merged:
        raise Conflict(f"pull request #{pr.number} is already merged")
    _refuse_while_run_is_active(run)
    if project is None:
        raise NotFound(f"project {validation.project_id} does not exist")
    change = await _open_change(project, pr.number)
    async with runtime.database.transaction() as session:
        fresh_pr = await pull_requests.record_pull_request(
            session,
            project_id=project.id,
            agent_run_id=validation.agent_run_id,
            number=change.number,
            url=change.url,
            title=change.title,
            branch=change.head_branch,
            base_branch=change.base_branch,
            head_sha=change.head_sha,
        )
        retry = await validations.create_validation(
            session,
            pull_request=fresh_pr,
            agent_run_id=validation.agent_run_id,
            attempt=await validations.next_attempt(session, fresh_pr.id),
        )
    await launch_validation(retry.id)
    return retry


def _refuse_while_run_is_active(run: AgentRunRow | None) -> None:
    # An active run's workflow validates and merges its pull request itself; a person acting
    # at the same time would race it.
    if run is not None and not AgentRunStatus(run.status).is_final:
        raise Conflict(
            f"agent run {run.id} is {run.status}; its own workflow validates and merges "
            "this pull request"
        )


async def _open_change(project: ProjectRow, number: int) -> ChangeRequest:
    """The pull request as the forge has it now; `Conflict` unless it is open."""
    forge = current().drivers.forge(projects.forge_of(project))
    change = await forge.get_change_request(project.repository, number)
    if change is None or change.state is not ChangeState.OPEN:
        state = "gone" if change is None else change.state.value
        raise Conflict(f"pull request #{number} is {state}, not open")
    return change


async def merge_validation(validation_id: int) -> ValidationRow:
    """A person asks to merge the pull request of a passed validation: exactly its head, under
    the project's check rules but whatever `auto_merge` says (a person asked). Refused with
    `Conflict`, naming why, unless the validation passed, its pull request is open and still
    at the validated head, and no run is working on it; a merge the forge refuses is recorded
    on the validation and refused the same way. An ended run then completes, saying so."""
    async with current().database.read() as session:
        validation = await validations.require_validation(session, validation_id)
        if validation.pull_request_id is None:
            raise Conflict(f"validation {validation_id} is of a base branch; it merges nothing")
        pr = await pull_requests.require_pull_request(session, validation.pull_request_id)
        project = await projects.get_project(session, validation.project_id)
        run = await agent_runs.get_run(session, validation.agent_run_id or 0)
    if validation.status != ValidationStatus.PASSED:
        raise Conflict(
            f"validation {validation_id} is {validation.status}; only a passed one is merged"
        )
    if validation.merged or pr.merged:
        raise Conflict(f"pull request #{pr.number} is already merged")
    _refuse_while_run_is_active(run)
    if project is None:
        raise NotFound(f"project {validation.project_id} does not exist")
    change = await _open_change(project, pr.number)
    if change.head_sha != validation.head_sha:
        raise Conflict(
            f"pull request #{pr.number} moved to {change.head_sha[:12]} since validation "
            f"{validation_id} validated {validation.head_sha[:12]}: retry the validation"
        )
    outcome = await merge.merge_validation(validation_id, requested=True)
    if not outcome.merged:
        raise Conflict(f"pull request #{pr.number} was not merged: {outcome.reason}")
    await ended_runs.settle_ended_run(validation_id, how="a person's merge request")
    async with current().database.read() as session:
        return await validations.require_validation(session, validation_id)


async def _retry_baseline(validation: ValidationRow) -> ValidationRow:
    if not ValidationStatus(validation.status).is_final:
        raise Conflict(f"validation {validation.id} is still {validation.status}")
    baseline_id = await ensure_baseline(validation.project_id, None, again=True)
    if baseline_id is None:
        raise Conflict(
            f"project {validation.project_id} has no base branch to validate, or "
            "validate_base_branch is off"
        )
    await launch_on_baseline_queue(baseline_id)
    async with current().database.read() as session:
        return await validations.require_validation(session, baseline_id)
