"""What a project does when its forge says something happened: every pull request's new head
is validated (whoever opened it), a closed one stops being validated, the base branch that
moved is validated again, and a re-run asked on the forge runs again.

Each `on_*` changes our tables only and returns a `Plan`: what it did in words (recorded on
the delivery) and the workflows to start and stop, which the caller's workflow does after the
commit (DBOS starts workflows from a workflow, not from inside a step). Each is safe to run
again with the same event: a head that has a validation is not validated twice.
"""

from dbos import DBOS

from codegenapp.db.queries import projects, pull_requests
from codegenapp.db.tables import ProjectRow
from codegenapp.drivers.forge.events import (
    BranchPushed,
    PullRequestAction,
    PullRequestChanged,
    RecheckRequested,
)
from codegenapp.flows import forge_reports
from codegenapp.flows import pull_request_heads as heads
from codegenapp.flows.actions import launch_validation
from codegenapp.flows.pull_request_heads import Plan
from codegenapp.flows.runtime import current
from codegenapp.flows.validation import ensure_baseline, launch_on_baseline_queue, workflow_id


async def on_pull_request(project: ProjectRow, event: PullRequestChanged) -> Plan:
    if event.action is PullRequestAction.CLOSED:
        return await _close(project, event)
    if event.base_branch != project.default_branch:
        return Plan(f"#{event.number} targets {event.base_branch}, not {project.default_branch}")
    if event.draft and not projects.settings_of(project).validation_settings.validate_drafts:
        return Plan(f"#{event.number} is a draft: validated once ready (or with validate_drafts)")
    return await heads.new_head(project, event)


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
            stopped += await heads.stop(session, pr, why="a re-run was asked on the forge")
            queued.append(await heads.queue(session, pr))
    numbers = ", ".join(f"#{pr.number}" for pr in pulls)
    return Plan(f"re-run of {numbers}: validations queued", tuple(queued), tuple(stopped))


async def _close(project: ProjectRow, event: PullRequestChanged) -> Plan:
    async with current().database.transaction() as session:
        pr = await pull_requests.find_pull_request(
            session, project_id=project.id, number=event.number
        )
        if pr is None:
            return Plan(f"#{event.number} was closed; it was never validated here")
        await pull_requests.close_pull_request(session, pr, merged=event.merged)
        stopped = await heads.stop(session, pr, why="the pull request was closed")
    word = "merged" if event.merged else "closed"
    return Plan(f"#{event.number} {word}: {len(stopped)} cancelled", stopped=tuple(stopped))


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
