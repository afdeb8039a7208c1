"""Before an agent run validates its pull request's head, the head is read: a change that bends
the gate (skips or deletes tests, drops assertions, edits CI or test-runner configuration)
waits for a person's approval instead of being validated as a normal attempt, and a change
that strays from the plan a person confirmed is flagged on the run and the pull request.

Every head the run validates is read, its first pull request's too: a first pull request that
deletes the tests is no less suspicious than a fix that does. The diff read is the whole pull
request's (`base...head`), as the forge has it now, never what the agent says it pushed.

While the run reads and waits, its pull request's new heads are not validated by the forge's
webhooks (`pull_request_heads.new_head` leaves them to the run), so a head is never validated
before it is cleared (docs/adr/0013).
"""

from dataclasses import dataclass

from dbos import DBOS

from codegenapp.db.queries import agent_runs, projects, pull_requests
from codegenapp.domain import change_review
from codegenapp.domain.change_review import HeadReview
from codegenapp.domain.plans import PlanDrift
from codegenapp.domain.reports import PLAN_NOTE_MARKER, plan_note_markdown
from codegenapp.drivers.forge import DIFF_LIMIT_BYTES, ChangeRequest, ChangeState, Forge
from codegenapp.errors import DiffTooLarge, ForgeError
from codegenapp.flows import forge_reports
from codegenapp.flows.reporting import best_effort
from codegenapp.flows.runtime import current

APPROVAL_TOPIC = "change-approval"
APPROVAL_RECHECK_SEC = 300
"""The waiting run reads its approval from the table this often; the API's message to it
only wakes it sooner, so a lost message delays the run but cannot strand it."""


@dataclass(frozen=True, slots=True)
class HeadCheck:
    """The pull request's head as read: held for a person or clear, or no head at all."""

    head_sha: str | None  # None: the pull request is no longer open (`note` says why)
    held: bool = False
    note: str = ""


async def cleared_head(run_id: int, pull_request_id: int) -> HeadCheck:
    """The pull request's head once it may be validated: read, and approved by a person if it
    bends the gate (the run waits for that). If the head moved while the run waited, the new
    head is read in turn. From the run's workflow."""
    while True:
        check = await review_head(run_id, pull_request_id)
        if not check.held or check.head_sha is None:
            return check
        await wait_for_approval(run_id, check.head_sha)


async def wait_for_approval(run_id: int, head_sha: str) -> None:
    """Until a person approved the change held at `head_sha` (a cancel ends the workflow)."""
    while not await read_approval(run_id, head_sha):
        await DBOS.recv_async(APPROVAL_TOPIC, timeout_seconds=APPROVAL_RECHECK_SEC)


@DBOS.step(name="agent_run.read_approval")
async def read_approval(run_id: int, head_sha: str) -> bool:
    async with current().database.read() as session:
        run = await agent_runs.require_run(session, run_id)
    return agent_runs.is_approved(run, head_sha)


@DBOS.step(name="agent_run.review_head")
async def review_head(run_id: int, pull_request_id: int) -> HeadCheck:
    """Read the pull request as the forge has it now and record its head; hold the run if the
    diff bends the gate in a way not approved yet in this run; record how it kept to the
    confirmed plan. Idempotent: a head held or approved before is found so again."""
    runtime = current()
    async with runtime.database.read() as session:
        run = await agent_runs.require_run(session, run_id)
        pr = await pull_requests.require_pull_request(session, pull_request_id)
        project = await projects.get_project(session, run.project_id)
    if project is None:
        return HeadCheck(None, note="the project was deleted")
    forge = runtime.drivers.forge(projects.forge_of(project))
    change = await forge.get_change_request(project.repository, pr.number)
    if change is None or change.state is not ChangeState.OPEN:
        where = "no longer exists" if change is None else f"was {change.state.value}"
        return HeadCheck(None, note=f"pull request #{pr.number} {where} before it was validated")
    since = agent_runs.approved_head(run)
    review, drift = await _read(forge, project.repository, change, since, run.confirmed_plan)
    async with runtime.database.transaction() as session:
        await pull_requests.record_pull_request(
            session,
            project_id=project.id,
            agent_run_id=run_id,
            number=change.number,
            url=change.url,
            title=pr.title,
            branch=change.head_branch,
            base_branch=change.base_branch,
            head_sha=change.head_sha,
        )
        held = await agent_runs.hold_change(session, run_id, pr_number=change.number, review=review)
        note_due = drift is not None and await agent_runs.record_plan_drift(
            session, run_id, pr_number=change.number, head_sha=change.head_sha, drift=drift
        )
    if note_due and drift is not None:
        settings = projects.settings_of(project)
        if settings.notification_settings.github_status_updates:
            body = plan_note_markdown(
                head_sha=change.head_sha,
                unnamed=drift.unnamed,
                changed=drift.changed,
                strays=drift.strays,
                link=forge_reports.dashboard_link(project.id, run_id),
            )
            note = forge.upsert_comment(
                project.repository, change.number, marker=PLAN_NOTE_MARKER, body=body
            )
            await best_effort("write the plan note on the pull request", note)
    return HeadCheck(change.head_sha, held=held)


async def _read(
    forge: Forge,
    repository: str,
    change: ChangeRequest,
    approved: str | None,
    confirmed_plan: str | None,
) -> tuple[HeadReview, PlanDrift | None]:
    """The head read for bent gates since the base branch, or since the head a person approved
    last (`approved`); and the whole pull request held against the confirmed plan, if any."""
    head, base = change.head_sha, change.base_branch
    review: HeadReview | None = None
    if approved is not None:
        try:
            review = _gate(await _diff(forge, repository, approved, head), head, approved)
        except ForgeError:
            # The approved head left the branch's history (a force-push), or cannot be read:
            # read since the base then, which asks a person again rather than less.
            review = None
    whole = None
    if review is None or confirmed_plan is not None:
        whole = await _diff(forge, repository, base, head)
    if review is None:
        review = _gate(whole, head, base)
    drift = None
    if confirmed_plan is not None and whole is not None:
        drift = change_review.drift_from_plan(whole, confirmed_plan)
    return review, drift


_TOO_LARGE = f"its diff is longer than {DIFF_LIMIT_BYTES} bytes, too large to read line by line"


async def _diff(forge: Forge, repository: str, base: str, head: str) -> str | None:
    """The diff, or None when it is too large to read."""
    try:
        return await forge.diff(repository, base, head)
    except DiffTooLarge:
        return None


def _gate(diff: str | None, head: str, since: str) -> HeadReview:
    if diff is None:
        return change_review.unchecked(head, since, _TOO_LARGE)
    return change_review.gate_review(diff, head_sha=head, since=since)
