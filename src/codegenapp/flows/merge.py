"""Auto-merge: exactly the validated commit, only when the project's policy allows it."""

import asyncio
from dataclasses import dataclass

from dbos import DBOS

from codegenapp.db.queries import agent_runs, projects, pull_requests, validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.merge_policy import decide_merge
from codegenapp.domain.states import CheckName, CheckStatus
from codegenapp.drivers.forge import ChangeRequest, ChangeState, Forge
from codegenapp.errors import ForgeError, MergeRefused
from codegenapp.flows import forge_reports
from codegenapp.flows.runtime import current


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    merged: bool
    merge_sha: str | None
    reason: str
    # The pull request as it is now, when the merge was refused because its head moved
    # since it was validated: the new head is to be validated.
    moved: ChangeRequest | None = None


@DBOS.step(name="validation.merge")
async def merge_if_allowed(validation_id: int) -> MergeOutcome:
    """Merge the validated head if the policy allows it; otherwise record why not.

    Safe to run again after a crash: the forge's merge is idempotent for the same head, and
    our records change only once.
    """
    return await merge_validation(validation_id, requested=False)


async def merge_validation(validation_id: int, *, requested: bool) -> MergeOutcome:
    """Merge exactly the validated head under the project's check rules; `requested` is a
    person's explicit request, which merges even with `auto_merge` off. The forge refuses if
    the head moved. A refusal is recorded (and commented) as the reason it was not merged."""
    runtime = current()
    async with runtime.database.read() as session:
        validation = await validations.require_validation(session, validation_id)
        project = await projects.get_project(session, validation.project_id)
        if validation.pull_request_id is None:
            return MergeOutcome(False, None, "a baseline validates a branch; it merges nothing")
        pr = await pull_requests.require_pull_request(session, validation.pull_request_id)
        ours = validation.agent_run_id is not None or (
            await agent_runs.run_of_pull_request(session, pr.id) is not None
        )
    if project is None:
        return MergeOutcome(False, None, "the project was deleted")
    if validation.merged:
        return MergeOutcome(True, validation.merge_sha, "already merged")
    settings = projects.settings_of(project).validation_settings
    checks = {
        CheckName(name): CheckStatus(str(status)) for name, status in validation.checks.items()
    }
    decision = decide_merge(
        settings, checks, requested=requested, author=None if ours else pr.author
    )
    forge = runtime.drivers.forge(projects.forge_of(project))
    reason, merge_sha, moved = decision.reason, None, None
    if decision.allowed:
        try:
            result = await forge.merge(
                project.repository,
                pr.number,
                expected_head_sha=validation.head_sha,
                method=settings.merge_method,
                message=f"Merge pull request #{pr.number} from {pr.branch}\n\n{pr.title}\n\n"
                f"Validated by CodegenApp (validation {validation_id}, attempt "
                f"{validation.attempt}) at {validation.head_sha}.",
            )
            merge_sha = result.merge_sha
        except MergeRefused as refused:
            reason = f"merge refused: {refused}"
            moved = await _moved(forge, project.repository, pr.number, validation.head_sha)
            if moved is not None:
                reason += f"; the head moved to {moved.head_sha[:12]}, which is validated next"
        except ForgeError as failed:  # down or rate-limited past the driver's retries
            if requested:
                raise  # the person who asked gets the forge's failure (a 502) at once
            reason = f"merge failed: {failed} (merge it by request once the forge answers)"
    # The pull request's one report comment: a failed attempt's story becomes this outcome.
    comment = _comment(validation, merge_sha, reason, requested=requested)
    await asyncio.gather(
        _record(validation_id, pr.id, validation.agent_run_id, merge_sha, reason),
        forge_reports.write_comment(
            forge,
            project.repository,
            pr.number,
            comment,
            settings=projects.settings_of(project),
        ),
    )
    return MergeOutcome(merge_sha is not None, merge_sha, reason, moved)


async def _moved(
    forge: Forge, repository: str, number: int, validated: str
) -> ChangeRequest | None:
    """The open pull request, if its head is no longer the validated one; None otherwise, and
    when the forge cannot say (the sweep finds a moved head later)."""
    try:
        change = await forge.get_change_request(repository, number)
    except ForgeError:
        return None
    if change is None or change.state is not ChangeState.OPEN or change.head_sha == validated:
        return None
    return change


def _comment(
    validation: ValidationRow, merge_sha: str | None, reason: str, *, requested: bool
) -> str:
    link = forge_reports.dashboard_link(validation.project_id, validation.agent_run_id)
    seen = f"\n\n[Open it in CodegenApp]({link})" if link else ""
    if merge_sha is None:
        return f"Validation attempt {validation.attempt} passed, but not merged: {reason}.{seen}"
    how = " on a person's request" if requested else ""
    return (
        f"Merged at {validation.head_sha[:12]}{how} after validation attempt "
        f"{validation.attempt}.{seen}"
    )


async def _record(
    validation_id: int, pr_id: int, agent_run_id: int | None, merge_sha: str | None, reason: str
) -> None:
    async with current().database.transaction() as session:
        await validations.record_merge(
            session,
            validation_id,
            merged=merge_sha is not None,
            merge_sha=merge_sha,
            blocked_reason=None if merge_sha else reason,
        )
        if merge_sha:
            await pull_requests.mark_merged(
                session,
                pr_id,
                merge_sha=merge_sha,
                agent_run_id=agent_run_id,
                validation_id=validation_id,
            )
