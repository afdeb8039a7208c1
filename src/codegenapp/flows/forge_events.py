"""What a project does when its forge says something happened: every pull request's new head
is validated (whoever opened it), a closed one stops being validated, the base branch that
moved is validated again, and a re-run asked on the forge runs again.

Each `on_*` changes our tables only and returns a `Plan`: what it did in words (recorded on
the delivery) and the workflows to start and stop, which the caller's workflow does after the
commit (DBOS starts workflows from a workflow, not from inside a step). Each is safe to run
again with the same event: a head that has a validation is not validated twice.
"""

from dataclasses import dataclass

from dbos import DBOS
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import agent_runs, projects, pull_requests, validations
from codegenapp.db.tables import ProjectRow, PullRequestRow
from codegenapp.domain.lifecycles import ValidationMove
from codegenapp.domain.states import ValidationStatus
from codegenapp.drivers.forge.events import (
    BranchPushed,
    PullRequestAction,
    PullRequestChanged,
    RecheckRequested,
)
from codegenapp.flows import forge_reports
from codegenapp.flows.actions import launch_validation
from codegenapp.flows.runtime import current
from codegenapp.flows.validation import ensure_baseline, launch_on_baseline_queue, workflow_id


@dataclass(frozen=True, slots=True)
class Plan:
    note: str
    queued: tuple[int, ...] = ()  # validations to launch
    stopped: tuple[int, ...] = ()  # validations whose workflows to cancel
    baselines: tuple[int, ...] = ()  # baselines to launch

    def __add__(self, other: "Plan") -> "Plan":
        return Plan(
            f"{self.note}; {other.note}" if self.note else other.note,
            self.queued + other.queued,
            self.stopped + other.stopped,
            self.baselines + other.baselines,
        )


async def on_pull_request(project: ProjectRow, event: PullRequestChanged) -> Plan:
    if event.action is PullRequestAction.CLOSED:
        return await _close(project, event)
    if event.base_branch != project.default_branch:
        return Plan(f"#{event.number} targets {event.base_branch}, not {project.default_branch}")
    if event.draft and not projects.settings_of(project).validation_settings.validate_drafts:
        return Plan(f"#{event.number} is a draft: validated once ready (or with validate_drafts)")
    return await _new_head(project, event)


async def on_push(project: ProjectRow, event: BranchPushed) -> Plan:
    if event.branch != project.default_branch:
        return Plan(f"a push to {event.branch}, not to {project.default_branch}")
    baseline = await ensure_baseline(project.id, None)
    moved = f"{event.branch} moved to {event.sha[:12]}"
    if baseline is None:
        return Plan(f"{moved}: its baseline is off or done already")
    return Plan(f"{moved}: baseline validation {baseline} queued", baselines=(baseline,))


async def on_recheck(project: ProjectRow, event: RecheckRequested) -> Plan:
    """Validate the pull requests at `head_sha` again, as a new attempt."""
    async with current().database.transaction() as session:
        pulls = [
            pr
            for pr in await pull_requests.open_pull_requests_at(
                session, project_id=project.id, head_sha=event.head_sha
            )
            if not event.pull_request_numbers or pr.number in event.pull_request_numbers
        ]
        if not pulls:
            return Plan(f"no open pull request of ours is at {event.head_sha[:12]}")
        stopped: list[int] = []
        queued: list[int] = []
        for pr in pulls:
            stopped += await _stop(session, pr, why="a re-run was asked on the forge")
            queued.append(await _queue(session, pr))
    numbers = ", ".join(f"#{pr.number}" for pr in pulls)
    return Plan(f"re-run of {numbers}: validations queued", tuple(queued), tuple(stopped))


async def _new_head(project: ProjectRow, event: PullRequestChanged) -> Plan:
    """Record the pull request at its head and queue that head's validation; a validation of
    an older head is superseded (cancelled: its sandbox goes with its workflow)."""
    async with current().database.transaction() as session:
        pr = await pull_requests.record_pull_request(
            session,
            project_id=project.id,
            agent_run_id=None,
            number=event.number,
            url=event.url,
            title=event.title,
            branch=event.head_branch,
            base_branch=event.base_branch,
            head_sha=event.head_sha,
            author=event.author,
        )
        superseded = await _stop(
            session, pr, why=f"superseded by {pr.head_sha[:12]}", keep_head=True
        )
        if await validations.validation_of_head(session, pr.id, pr.head_sha) is not None:
            note = f"#{pr.number} at {pr.head_sha[:12]} has its validation already"
            return Plan(note, stopped=tuple(superseded))
        validation_id = await _queue(session, pr)
    note = f"#{event.number} at {event.head_sha[:12]}: validation {validation_id} queued"
    return Plan(note, (validation_id,), tuple(superseded))


async def _close(project: ProjectRow, event: PullRequestChanged) -> Plan:
    async with current().database.transaction() as session:
        pr = await pull_requests.find_pull_request(
            session, project_id=project.id, number=event.number
        )
        if pr is None:
            return Plan(f"#{event.number} was closed; it was never validated here")
        await pull_requests.close_pull_request(session, pr, merged=event.merged)
        stopped = await _stop(session, pr, why="the pull request was closed")
    word = "merged" if event.merged else "closed"
    return Plan(f"#{event.number} {word}: {len(stopped)} cancelled", stopped=tuple(stopped))


async def _stop(
    session: AsyncSession, pr: PullRequestRow, *, why: str, keep_head: bool = False
) -> list[int]:
    """End the pull request's unfinished validations (those of older heads only, with
    `keep_head`); their ids, for their workflows to be cancelled after the commit."""
    stopped = []
    for validation in await validations.unfinished_validations(session, pr.id):
        if keep_head and validation.head_sha == pr.head_sha:
            continue
        await validations.finish_validation(
            session,
            validation.id,
            status=ValidationStatus.CANCELLED,
            by=ValidationMove.SUPERSEDE if keep_head else ValidationMove.CANCEL,
            failed_step=None,
            reason=why,
        )
        stopped.append(validation.id)
    return stopped


async def _queue(session: AsyncSession, pr: PullRequestRow) -> int:
    run_id = await agent_runs.run_of_pull_request(session, pr.id)
    attempt = await validations.next_attempt(session, pr.id)
    validation = await validations.create_validation(
        session, pull_request=pr, agent_run_id=run_id, attempt=attempt
    )
    return validation.id


async def carry_out(plan: Plan) -> None:
    """From a workflow, after the commit: stop the stopped validations' workflows (their
    sandboxes go with them), start the queued ones."""
    for validation_id in plan.stopped:
        await DBOS.cancel_workflow_async(workflow_id(validation_id))
        forge_reports.report_in_background(validation_id)
    for validation_id in plan.queued:
        await launch_validation(validation_id)
    for baseline_id in plan.baselines:
        await launch_on_baseline_queue(baseline_id)
