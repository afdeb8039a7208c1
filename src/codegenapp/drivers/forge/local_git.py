"""The local git forge: repositories on disk, with pull requests kept inside them like a tiny
GitHub. It is the embedded default, so the whole flow runs without an account anywhere."""

import asyncio
import dataclasses
import re
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codegenapp.domain.reports import CommitReport, ReportState
from codegenapp.drivers import git
from codegenapp.drivers.forge import (
    ChangeRequest,
    ChangeState,
    CommitRequest,
    CommitState,
    MergeResult,
    local_commits,
)
from codegenapp.drivers.forge.local_pulls import (
    PullRecord,
    PullStore,
    StoredComment,
    StoredStatus,
    now,
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
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


@dataclass(frozen=True, slots=True)
class _Repository:
    path: Path
    git_dir: Path

    @property
    def pulls(self) -> PullStore:
        return PullStore(self.git_dir)

    def url(self, number: int) -> str:
        return f"file://{self.path}#pull-{number}"


def _under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


async def _open(repository: str, roots: Sequence[Path]) -> _Repository:
    """Resolve a repository path, raising `RepositoryInvalid` (field `repository`).

    Only paths under `roots` are looked at, and a path outside them gets the same answer
    whether it exists or not: the API must not become a way to probe the server's disk.
    """
    path = Path(repository)
    if not path.is_absolute():
        raise RepositoryInvalid("repository", f"{repository!r} is not an absolute path")
    try:
        resolved = await asyncio.to_thread(path.resolve)
    except (OSError, RuntimeError):  # a name too long, a symlink loop
        resolved = None
    if resolved is None or not _under(resolved, roots):
        raise RepositoryInvalid("repository", _outside_roots(roots))
    # Inside the roots the caller may know what is there.
    problem = await asyncio.to_thread(_not_a_directory, resolved)
    if problem:
        raise RepositoryInvalid("repository", f"{repository} {problem}")
    # The ceiling stops git from finding an enclosing repository of a plain sub-directory.
    result = await git.run(
        ["rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=resolved,
        env={"GIT_CEILING_DIRECTORIES": str(resolved.parent)},
        accept=(0, 128),
    )
    if result.exit_code != 0:
        # Say why when it is not the plain case, e.g. git's "dubious ownership" refusal.
        why = result.stderr.removeprefix("fatal: ").splitlines()
        detail = f" ({why[0]})" if why and "not a git repository" not in why[0] else ""
        raise RepositoryInvalid("repository", f"{repository} is not a git repository{detail}")
    git_dir = Path(result.text)
    # A `.git` file can point anywhere ("gitdir: /elsewhere"): the objects must be ours too.
    if not _under(await asyncio.to_thread(git_dir.resolve), roots):
        raise RepositoryInvalid("repository", _outside_roots(roots))
    return _Repository(resolved, git_dir)


def _not_a_directory(path: Path) -> str | None:
    try:
        return None if stat.S_ISDIR(path.stat().st_mode) else "is not a directory"
    except FileNotFoundError:
        return "does not exist"
    except OSError as error:
        return f"cannot be used ({error.strerror})"


def _outside_roots(roots: Sequence[Path]) -> str:
    listed = ", ".join(str(root) for root in roots) or "none configured"
    return (
        f"must be a git repository under one of the server's repository roots ({listed}); "
        "the server's CODEGENAPP_REPOSITORY_ROOTS setting names them"
    )


async def _tip(repo: _Repository, branch: str) -> str | None:
    """The commit a branch points at, or None if there is no such branch."""
    result = await git.run(
        ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
        cwd=repo.git_dir,
        accept=(0, 1, 128),
    )
    return result.text if result.exit_code == 0 else None


async def _require_commit(repo: _Repository, sha: str) -> None:
    """Raise `ForgeError` unless `sha` is a full commit id the repository has."""
    if not _FULL_SHA.match(sha):
        raise ForgeError(f"{sha!r} is not a full commit id (40 or 64 lowercase hex digits)")
    found = await git.run(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=repo.git_dir, accept=None)
    if found.exit_code != 0:
        raise ForgeError(f"commit {sha} does not exist in {repo.path}")


async def _branch_tips(repo: _Repository) -> dict[str, str]:
    listing = await git.output(
        ["for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads/"],
        cwd=repo.git_dir,
    )
    pairs = (line.split(" ", 1) for line in listing.splitlines() if line)
    return {name: sha for sha, name in pairs}


async def _is_ancestor(repo: _Repository, ancestor: str, descendant: str) -> bool:
    result = await git.run(
        ["merge-base", "--is-ancestor", ancestor, descendant], cwd=repo.git_dir, accept=(0, 1)
    )
    return result.exit_code == 0


def _view(repo: _Repository, record: PullRecord, tips: dict[str, str]) -> ChangeRequest:
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
    """`Forge` over repositories that are local paths, bare or not. Keeps nothing in memory:
    every fact lives in the repository, so any process can carry on where another stopped."""

    name = "local_git"

    def __init__(self, roots: Sequence[Path], *, mirror_dir: Path) -> None:
        """`roots`: the only directories whose repositories this forge opens. `mirror_dir`:
        where the bare mirrors that snapshots are taken from live (see `forge.mirror`)."""
        self._roots = tuple(root.resolve() for root in roots)
        self._mirror_dir = mirror_dir

    async def _open(self, repository: str) -> _Repository:
        return await _open(repository, self._roots)

    async def push_commit(self, repository: str, change: CommitRequest) -> str:
        repo = await self._open(repository)
        return await local_commits.push_commit(repo.path, change)

    async def check_repository(self, repository: str, *, default_branch: str) -> None:
        repo = await self._open(repository)
        if await _tip(repo, default_branch) is None:
            raise RepositoryInvalid(
                "default_branch", f"{repository} has no branch {default_branch!r}"
            )

    async def fetch_snapshot(self, repository: str, sha: str, dest: Path) -> None:
        repo = await self._open(repository)
        await _require_commit(repo, sha)
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
            if await _tip(repo, branch) is None:
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
        return _view(repo, record, await _branch_tips(repo))

    async def branch_head(self, repository: str, branch: str) -> str | None:
        return await _tip(await self._open(repository), branch)

    async def get_change_request(self, repository: str, number: int) -> ChangeRequest | None:
        repo = await self._open(repository)
        record = await repo.pulls.load(number)
        if record is None:
            return None
        return _view(repo, record, await _branch_tips(repo))

    async def list_open_change_requests(self, repository: str) -> list[ChangeRequest]:
        repo = await self._open(repository)
        records = await repo.pulls.load_all()
        tips = await _branch_tips(repo)
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
        await _require_commit(repo, sha)
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
        await _require_commit(repo, sha)
        async with repo.pulls.locked():
            records = await _pulls_containing(repo, sha)
            if not records:
                raise ForgeError(f"commit {sha} belongs to no pull request in {repository}")
            for record in records:
                check, contexts = report.aggregate, record.statuses.get(sha, {})
                state = _COMMIT_STATES[check.state]
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
            head = await _tip(repo, record.head_branch)
            if head != expected_head_sha:
                found = head or f"no branch {record.head_branch!r}"
                raise MergeRefused(
                    f"pull request #{number}: head moved (expected {expected_head_sha}, "
                    f"found {found})"
                )
            merge_sha, already = await _merge_into_base(repo, record, expected_head_sha, message)
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


async def _pulls_containing(repo: _Repository, sha: str) -> list[PullRecord]:
    """Pull requests whose head is `sha`; failing that, those whose history contains it."""
    records = await repo.pulls.load_all()
    tips = await _branch_tips(repo)

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
        if head is not None and await _is_ancestor(repo, sha, head):
            containing.append(record)
    return containing


async def _merge_into_base(
    repo: _Repository, record: PullRecord, head: str, message: str
) -> tuple[str, bool]:
    """Put `head` into the base branch; return the merge commit and whether it was already
    there (the process died after moving the base, before recording the merge)."""
    base_branch = record.base_branch
    base = await _tip(repo, base_branch)
    if base is None:
        raise MergeRefused(f"pull request #{record.number}: no base branch {base_branch!r}")
    if await _is_ancestor(repo, head, base):
        return await _merge_commit_of(repo, base, head), True
    worktrees = await _worktrees_on(repo, base_branch)
    for worktree in worktrees:
        await _require_clean(worktree, base_branch)
    merge_sha = await _write_merge_commit(repo, record, base, head, message)
    ref = f"refs/heads/{base_branch}"
    if not worktrees:
        reason = f"codegenapp: merge pull request #{record.number}"
        await git.run(["update-ref", "-m", reason, ref, merge_sha, base], cwd=repo.git_dir)
    for worktree in worktrees:
        await _fast_forward(worktree, merge_sha)
    return merge_sha, False


async def _merge_commit_of(repo: _Repository, base: str, head: str) -> str:
    """The commit on the base's first-parent line that merged `head`, or `head` itself if
    it got there some other way (a fast-forward, say)."""
    lines = await git.output(
        ["rev-list", "--first-parent", "--parents", "--max-count=1000", base], cwd=repo.git_dir
    )
    for line in lines.splitlines():
        commit, *parents = line.split()
        if head in parents[1:]:
            return commit
    return head


async def _write_merge_commit(
    repo: _Repository, record: PullRecord, base: str, head: str, message: str
) -> str:
    """A real two-parent merge commit, built without any work tree; the old base is the
    first parent, so the base branch moves by a fast-forward."""
    result = await git.run(
        ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", base, head],
        cwd=repo.git_dir,
        accept=(0, 1),
    )
    tree, *conflicts = (part.decode() for part in result.stdout.split(b"\0") if part)
    if result.exit_code == 1:
        paths = ", ".join(sorted(set(conflicts))) or "(unknown paths)"
        raise MergeRefused(
            f"pull request #{record.number} conflicts with {record.base_branch!r} in: {paths}"
        )
    return await git.output(
        ["commit-tree", "--no-gpg-sign", tree, "-p", base, "-p", head, "-m", message],
        cwd=repo.git_dir,
    )


async def _worktrees_on(repo: _Repository, branch: str) -> list[Path]:
    """Work trees that have `branch` checked out (a bare repository has none)."""
    listing = await git.run(["worktree", "list", "--porcelain", "-z"], cwd=repo.git_dir)
    fields = listing.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    found: list[Path] = []
    current: Path | None = None
    for item in fields:
        if item.startswith("worktree "):
            current = Path(item.removeprefix("worktree "))
        elif item == f"branch refs/heads/{branch}" and current is not None:
            found.append(current)
    return found


async def _require_clean(worktree: Path, branch: str) -> None:
    """Refuse, as git's `receive.denyCurrentBranch=updateInstead` does, to move a checked-out
    branch under someone's uncommitted changes."""
    status = await git.output(
        ["status", "--porcelain", "--untracked-files=no", "--ignore-submodules=none"],
        cwd=worktree,
    )
    if status:
        changed = ", ".join(line[3:] for line in status.splitlines()[:10])
        raise MergeRefused(
            f"{branch!r} is checked out in {worktree}, which has local changes ({changed}); "
            "commit or discard them and merge again"
        )


async def _fast_forward(worktree: Path, merge_sha: str) -> None:
    """Move the checked-out base branch and its files to the merge commit. `merge --ff-only`
    updates the branch only from the HEAD it saw, so it doubles as the compare-and-swap."""
    result = await git.run(
        ["merge", "--ff-only", "--quiet", "--no-stat", merge_sha], cwd=worktree, accept=None
    )
    if result.exit_code != 0:
        raise MergeRefused(
            f"could not update the work tree {worktree} to the merge: {result.stderr}"
        )
