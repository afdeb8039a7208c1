"""Pull requests as we track them, whatever forge hosts them."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.tables import PullRequestRow
from codegenapp.domain.events import EventType
from codegenapp.domain.lifecycles import (
    PULL_REQUESTS,
    PullRequestMove,
    check_pull_request_transition,
)
from codegenapp.domain.states import PullRequestState
from codegenapp.errors import NotFound


def _move(pr: PullRequestRow, new: PullRequestState, by: PullRequestMove) -> None:
    """The one place a pull request's state changes; `InvalidTransition` if its life cycle
    forbids it."""
    pr.state = check_pull_request_transition(pr.state, new, by=by, ident=pr.number).value


async def record_pull_request(
    session: AsyncSession,
    *,
    project_id: int,
    agent_run_id: int | None,
    number: int,
    url: str,
    title: str,
    branch: str,
    base_branch: str,
    head_sha: str,
    author: str | None = None,
) -> PullRequestRow:
    """Insert or move the head of a pull request that the caller saw open (the agent just
    pushed it, or the forge said so; `author`: who opened it, None for our agent run);
    `pull_request_opened` / `_updated` events only when something changed, so a repeated call
    is a no-op. One we had as closed is reopened; a merged one takes no new head
    (`InvalidTransition`).

    The row stays locked until the caller's commit: whoever else records the same pull
    request, or queues its validation, waits, so that a head gets one validation."""
    pr = await _locked(session, project_id, number)
    opened = False
    if pr is None:
        opened = await _insert_once(
            session,
            project_id=project_id,
            number=number,
            url=url,
            title=title,
            branch=branch,
            base_branch=base_branch,
            head_sha=head_sha,
            author=author,
            state=PULL_REQUESTS.initial.value,
        )
        pr = await _locked(session, project_id, number)
        assert pr is not None, "inserted or found just now, and locked"
        if opened:
            await _announce(session, pr, agent_run_id=agent_run_id, opened=True)
            return pr
    if pr.head_sha == head_sha and pr.state != PullRequestState.CLOSED:
        return pr
    else:
        if pr.state == PullRequestState.CLOSED:
            _move(pr, PullRequestState.OPEN, PullRequestMove.REOPEN)
        if pr.head_sha != head_sha:
            _move(pr, PullRequestState.OPEN, PullRequestMove.PUSH)
        pr.head_sha = head_sha
    await session.flush()
    await _announce(session, pr, agent_run_id=agent_run_id, opened=False)
    return pr


async def _locked(session: AsyncSession, project_id: int, number: int) -> PullRequestRow | None:
    # populate_existing: a row this session read before is read again, now under the lock.
    await events.hold_event_order(session)  # before the row lock: see there
    return await session.scalar(
        select(PullRequestRow)
        .where(PullRequestRow.project_id == project_id, PullRequestRow.number == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _insert_once(session: AsyncSession, **values: object) -> bool:
    """Insert the row unless a racing transaction just did; whether this one did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(PullRequestRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["project_id", "number"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _announce(
    session: AsyncSession, pr: PullRequestRow, *, agent_run_id: int | None, opened: bool
) -> None:
    await events.record(
        session,
        EventType.PULL_REQUEST_OPENED if opened else EventType.PULL_REQUEST_UPDATED,
        project_id=pr.project_id,
        agent_run_id=agent_run_id,
        data={"number": pr.number, "url": pr.url, "branch": pr.branch, "head_sha": pr.head_sha},
    )


async def find_pull_request(
    session: AsyncSession, *, project_id: int, number: int
) -> PullRequestRow | None:
    return await session.scalar(
        select(PullRequestRow).where(
            PullRequestRow.project_id == project_id, PullRequestRow.number == number
        )
    )


async def open_pull_requests_at(
    session: AsyncSession, *, project_id: int, head_sha: str
) -> list[PullRequestRow]:
    """The project's open pull requests whose head is `head_sha` (a re-run asked by sha)."""
    found = await session.scalars(
        select(PullRequestRow).where(
            PullRequestRow.project_id == project_id,
            PullRequestRow.head_sha == head_sha,
            PullRequestRow.state == PullRequestState.OPEN.value,
        )
    )
    return list(found)


async def close_pull_request(session: AsyncSession, pr: PullRequestRow, *, merged: bool) -> bool:
    """Record that the forge closed (or merged) it; False if we knew already. Merged here
    means merged by someone else: our own merges go through `mark_merged`."""
    if pr.state != PullRequestState.OPEN:
        return False
    if merged:
        _move(pr, PullRequestState.MERGED, PullRequestMove.MERGE)
        pr.merged = True
    else:
        _move(pr, PullRequestState.CLOSED, PullRequestMove.CLOSE)
    await events.record(
        session,
        EventType.PULL_REQUEST_UPDATED,
        project_id=pr.project_id,
        data={"number": pr.number, "url": pr.url, "state": pr.state, "head_sha": pr.head_sha},
    )
    return True


async def get_pull_request(session: AsyncSession, pr_id: int) -> PullRequestRow | None:
    return await session.get(PullRequestRow, pr_id)


async def require_pull_request(
    session: AsyncSession, pr_id: int, *, lock: bool = False
) -> PullRequestRow:
    """With `lock`, the row stays locked until the commit (see `record_pull_request`)."""
    if lock:
        await events.hold_event_order(session)  # before the row lock: see there
    pr = (
        await session.scalar(
            select(PullRequestRow)
            .where(PullRequestRow.id == pr_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if lock
        else await get_pull_request(session, pr_id)
    )
    if pr is None:
        raise NotFound(f"pull request {pr_id} does not exist")
    return pr


async def mark_merged(
    session: AsyncSession,
    pr_id: int,
    *,
    merge_sha: str,
    agent_run_id: int | None,
    validation_id: int,
) -> PullRequestRow:
    """Idempotent: a pull request already recorded as merged stays as it is, with no event."""
    pr = await require_pull_request(session, pr_id)
    if pr.merged:
        return pr
    _move(pr, PullRequestState.MERGED, PullRequestMove.MERGE)
    pr.merged, pr.merge_sha = True, merge_sha
    await events.record(
        session,
        EventType.PULL_REQUEST_MERGED,
        project_id=pr.project_id,
        agent_run_id=agent_run_id,
        validation_id=validation_id,
        data={"number": pr.number, "head_sha": pr.head_sha, "merge_sha": merge_sha},
    )
    return pr
