"""The local git forge: repositories on disk, with pull requests kept inside them like a tiny
GitHub. It is the embedded default, so the whole flow runs without an account anywhere."""

import asyncio
import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path

from codegenapp.domain.reports import CommitReport, ReportState
from codegenapp.drivers.forge import (
    DIFF_LIMIT_BYTES,
    ChangeRequest,
    ChangeState,
    CommitRequest,
    CommitState,
    MergeResult,
    local_commits,
)
from codegenapp.drivers.forge.diffs import is_full_sha, three_dot_diff
from codegenapp.drivers.forge.local_merge import merge_into_base
from codegenapp.drivers.forge.local_pulls import (
    PullRecord,
    StoredComment,
    StoredStatus,
    now,
)
from codegenapp.drivers.forge.local_repo import (
    LocalRepository,
    branch_tips,
    is_ancestor,
    open_repository,
    require_commit,
    tip,
)
from codegenapp.drivers.forge.mirror import Mirror
from codegenapp.errors import ForgeError, MergeRefused, RepositoryInvalid

_COMMIT_STATES = {
    ReportState.QUEUED: CommitState.PENDING,
    ReportState.IN_PROGRESS: CommitState.PENDING,
    ReportState.SUCCESS: CommitState.SUCCESS,
    ReportState.FAILURE: CommitState.FAILURE,
    ReportState.CANCELLED: CommitState.ERROR,  # no "cancelled" status: it must not pass
}


def _view(repo: LocalRepository, record: PullRecord, tips: dict[str, str]) -> ChangeRequest:
    """The pull request as a reader sees it: an open one's head is its branch's tip now; one
    whose branch was deleted reads as closed, as on GitHub."""
    state, head = record.state, record.merged_head_sha or ""
    if state is not ChangeState.MERGED:
        head = tips.get(record.head_branch, "")
        if not head:
            state = ChangeState.CLOSED
    return ChangeRequest(
        number=record.number,
        url=repo.url(record.number),
        title=record.title,
        head_branch=record.head_branch,
        base_branch=record.base_branch,
        head_sha=head,
        state=state,
        merge_sha=record.merge_sha,
    )


class LocalGitForge:
    """`Forge` over repositories that are local paths, bare or not. Every fact lives in the
    repository, so any process can carry on where another stopped; it remembers only where
    each repository's git directory is."""

    name = "local_git"

    def __init__(self, roots: Sequence[Path], *, mirror_dir: Path) -> None:
        """`roots`: the only directories whose repositories this forge opens. `mirror_dir`:
        where the bare mirrors that snapshots are taken from live (see `forge.mirror`)."""
        self._roots = tuple(root.resolve() for root in roots)
        self._mirror_dir = mirror_dir
        # Where each repository's git directory is, once found: finding it costs a git
        # process, and a validation asks the forge a dozen times. Looked up again if it went.
        self._opened: dict[str, LocalRepository] = {}

    async def _open(self, repository: str) -> LocalRepository:
        known = self._opened.get(repository)
        if known is not None and known.git_dir.is_dir():
            return known
        repo = await open_repository(repository, self._roots)
        self._opened[repository] = repo
        return repo

    async def push_commit(self, repository: str, change: CommitRequest) -> str:
        repo = await self._open(repository)
        return await local_commits.push_commit(repo.path, change)

    async def check_repository(self, repository: str, *, default_branch: str) -> None:
        repo = await self._open(repository)
        if await tip(repo, default_branch) is None:
            raise RepositoryInvalid(
                "default_branch", f"{repository} has no branch {default_branch!r}"
            )

    async def fetch_snapshot(self, repository: str, sha: str, dest: Path) -> None:
        repo = await self._open(repository)
        await require_commit(repo, sha)
        if await asyncio.to_thread(dest.exists):
            raise ForgeError(f"snapshot destination {dest} already exists")
        # A file:// URL makes git copy the objects into the mirror instead of hard-linking the
        # user's files into our state; snapshots name neither the mirror nor the repository.
        source = Mirror.of(self._mirror_dir, f"file://{repo.path}")
        try:
            await source.snapshot(sha, dest)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, dest, ignore_errors=True)
            raise

    async def open_change_request(
        self, repository: str, *, head_branch: str, base_branch: str, title: str, body: str
    ) -> ChangeRequest:
        repo = await self._open(repository)
        for branch in (head_branch, base_branch):
            if await tip(repo, branch) is None:
                raise ForgeError(f"branch {branch!r} does not exist in {repository}")
        async with repo.pulls.locked():
            records = await repo.pulls.load_all()
            open_ones = (r for r in records if r.state is ChangeState.OPEN)
            record = next((r for r in open_ones if r.head_branch == head_branch), None)
            if record is None:
                record = PullRecord(
                    number=max((r.number for r in records), default=0) + 1,
                    title=title,
                    body=body,
                    head_branch=head_branch,
                    base_branch=base_branch,
                    state=ChangeState.OPEN,
                    created_at=now(),
                )
                await repo.pulls.save(record)
        return _view(repo, record, await branch_tips(repo))

    async def branch_head(self, repository: str, branch: str) -> str | None:
        return await tip(await self._open(repository), branch)

    async def get_change_request(self, repository: str, number: int) -> ChangeRequest | None:
        repo = await self._open(repository)
        record = await repo.pulls.load(number)
        if record is None:
            return None
        return _view(repo, record, await branch_tips(repo))

    async def diff(
        self, repository: str, base: str, head: str, *, max_bytes: int = DIFF_LIMIT_BYTES
    ) -> str:
        """Read in the repository itself: both commits are there already."""
        repo = await self._open(repository)
        await require_commit(repo, head)
        if is_full_sha(base):
            await require_commit(repo, base)
        elif await tip(repo, base) is None:
            raise ForgeError(f"branch {base!r} does not exist in {repository}")
        else:
            base = f"refs/heads/{base}"
        return await three_dot_diff(repo.git_dir, base, head, max_bytes=max_bytes, where=repository)

    async def list_open_change_requests(self, repository: str) -> list[ChangeRequest]:
        repo = await self._open(repository)
        records = await repo.pulls.load_all()
        tips = await branch_tips(repo)
        views = (_view(repo, r, tips) for r in records if r.state is ChangeState.OPEN)
        return [v for v in views if v.state is ChangeState.OPEN]

    async def comment(self, repository: str, number: int, body: str) -> None:
        repo = await self._open(repository)
        async with repo.pulls.locked():
            record = await repo.pulls.require(number)
            comments = (*record.comments, StoredComment(body=body, created_at=now()))
            await repo.pulls.save(dataclasses.replace(record, comments=comments))

    async def set_commit_status(
        self, repository: str, sha: str, *, context: str, state: CommitState, description: str
    ) -> None:
        """Stored with every pull request whose commits include `sha`. Raise `ForgeError` if
        the commit is unknown or belongs to no pull request (statuses live with them here)."""
        repo = await self._open(repository)
        await require_commit(repo, sha)
        status = StoredStatus(state=state, description=description, updated_at=now())
        async with repo.pulls.locked():
            records = await _pulls_containing(repo, sha)
            if not records:
                raise ForgeError(f"commit {sha} belongs to no pull request in {repository}")
            for record in records:
                contexts = {**record.statuses.get(sha, {}), context: status}
                statuses = {**record.statuses, sha: contexts}
                await repo.pulls.save(dataclasses.replace(record, statuses=statuses))

    async def report(self, repository: str, sha: str, report: CommitReport) -> None:
        """The aggregate as a commit status (this forge has no check runs); a state already
        the latest for its context is not written again. Raise `ForgeError` as
        `set_commit_status` does."""
        repo = await self._open(repository)
        check = report.aggregate
        state = _COMMIT_STATES[check.state]
        async with repo.pulls.locked():
            # A validation reports after every step, mostly the same state again: when the
            # pull requests this commit was reported on already say it, no git is needed.
            reported = [r for r in await repo.pulls.load_all() if sha in r.statuses]
            if reported and all(_says(r, sha, check.name, state) for r in reported):
                return
            await require_commit(repo, sha)
            records = await _pulls_containing(repo, sha)
            if not records:
                raise ForgeError(f"commit {sha} belongs to no pull request in {repository}")
            for record in records:
                contexts = record.statuses.get(sha, {})
                if (known := contexts.get(check.name)) is not None and known.state is state:
                    continue
                status = StoredStatus(state, check.title, now())
                statuses = {**record.statuses, sha: {**contexts, check.name: status}}
                await repo.pulls.save(dataclasses.replace(record, statuses=statuses))

    async def upsert_comment(self, repository: str, number: int, *, marker: str, body: str) -> None:
        repo = await self._open(repository)
        async with repo.pulls.locked():
            record = await repo.pulls.require(number)
            comments = list(record.comments)
            index = next((i for i, c in enumerate(comments) if marker in c.body), None)
            if index is None:
                comments.append(StoredComment(body=body, created_at=now()))
            else:
                comments[index] = dataclasses.replace(comments[index], body=body, updated_at=now())
            await repo.pulls.save(dataclasses.replace(record, comments=tuple(comments)))

    async def merge(
        self,
        repository: str,
        number: int,
        *,
        expected_head_sha: str,
        message: str,
        method: str = "merge",
    ) -> MergeResult:
        """Always a merge commit: `method` is ignored (squash and rebase are not needed for the
        embedded flow)."""
        repo = await self._open(repository)
        async with repo.pulls.locked():
            record = await repo.pulls.require(number)
            if record.state is ChangeState.MERGED:
                return _merged_before(record, expected_head_sha)
            if record.state is ChangeState.CLOSED:
                raise MergeRefused(f"pull request #{number} is closed")
            head = await tip(repo, record.head_branch)
            if head != expected_head_sha:
                found = head or f"no branch {record.head_branch!r}"
                raise MergeRefused(
                    f"pull request #{number}: head moved (expected {expected_head_sha}, "
                    f"found {found})"
                )
            merge_sha, already = await merge_into_base(repo, record, expected_head_sha, message)
            merged = dataclasses.replace(
                record,
                state=ChangeState.MERGED,
                merged_head_sha=expected_head_sha,
                merge_sha=merge_sha,
            )
            await repo.pulls.save(merged)
        return MergeResult(number, expected_head_sha, merge_sha, already_merged=already)


def _merged_before(record: PullRecord, expected_head_sha: str) -> MergeResult:
    """The answer to a repeated merge: the recorded one if it was at this head."""
    if record.merged_head_sha != expected_head_sha or record.merge_sha is None:
        raise MergeRefused(
            f"pull request #{record.number} was merged at {record.merged_head_sha}, "
            f"not at the expected head {expected_head_sha}"
        )
    return MergeResult(record.number, expected_head_sha, record.merge_sha, already_merged=True)


def _says(record: PullRecord, sha: str, context: str, state: CommitState) -> bool:
    known = record.statuses.get(sha, {}).get(context)
    return known is not None and known.state is state


async def _pulls_containing(repo: LocalRepository, sha: str) -> list[PullRecord]:
    """Pull requests whose head is `sha`; failing that, those whose history contains it."""
    records = await repo.pulls.load_all()
    tips = await branch_tips(repo)

    def head_of(record: PullRecord) -> str | None:
        if record.state is ChangeState.MERGED:
            return record.merged_head_sha
        return tips.get(record.head_branch)

    exact = [r for r in records if head_of(r) == sha]
    if exact:
        return exact
    containing: list[PullRecord] = []
    for record in records:
        head = head_of(record)
        if head is not None and await is_ancestor(repo, sha, head):
            containing.append(record)
    return containing
