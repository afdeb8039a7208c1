"""A pull request's heads in our tables: the newest is recorded and gets a validation, older
ones' unfinished validations are stopped. Database only: the caller's workflow starts and
cancels the workflows the returned `Plan` names, after the commit (DBOS starts workflows from
a workflow, not from inside a step)."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import agent_runs, pull_requests, validations
from codegenapp.db.tables import ProjectRow, PullRequestRow
from codegenapp.domain.lifecycles import ValidationMove
from codegenapp.domain.states import ValidationStatus
from codegenapp.drivers.forge import ChangeRequest
from codegenapp.drivers.forge.events import PullRequestAction, PullRequestChanged
from codegenapp.flows.runtime import current


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


async def new_head(project: ProjectRow, event: PullRequestChanged) -> Plan:
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
        superseded = await stop(
            session, pr, why=f"superseded by {pr.head_sha[:12]}", keep_head=True
        )
        if await validations.validation_of_head(session, pr.id, pr.head_sha) is not None:
            note = f"#{pr.number} at {pr.head_sha[:12]} has its validation already"
            return Plan(note, stopped=tuple(superseded))
        # An agent's head is read for bent gates before it is validated: its run does both.
        run = await agent_runs.run_checking_heads_of(
            session, project_id=project.id, pull_request_id=pr.id, branch=pr.branch
        )
        if run is not None:
            note = f"#{pr.number} at {pr.head_sha[:12]} is validated by agent run {run.id}"
            return Plan(f"{note} once it has read the head", stopped=tuple(superseded))
        validation_id = await queue(session, pr)
    note = f"#{event.number} at {event.head_sha[:12]}: validation {validation_id} queued"
    return Plan(note, (validation_id,), tuple(superseded))


async def stop(
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


async def queue(session: AsyncSession, pr: PullRequestRow) -> int:
    run_id = await agent_runs.run_of_pull_request(session, pr.id)
    attempt = await validations.next_attempt(session, pr.id)
    validation = await validations.create_validation(
        session, pull_request=pr, agent_run_id=run_id, attempt=attempt
    )
    return validation.id


def as_event(project: ProjectRow, change: ChangeRequest) -> PullRequestChanged:
    """A pull request as the forge has it now, told as the webhook that would say so."""
    return PullRequestChanged(
        repository=project.repository,
        action=PullRequestAction.SYNCHRONIZE,
        number=change.number,
        url=change.url,
        title=change.title,
        author=change.author or "ghost",
        head_branch=change.head_branch,
        head_sha=change.head_sha,
        base_branch=change.base_branch,
        draft=change.draft,
        merged=False,
    )
