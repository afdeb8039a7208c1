"""Merging a local pull request: a real merge commit made without a work tree, and a checked-out
base branch moved only when its work tree is clean (as git's updateInstead does)."""

from pathlib import Path

from codegenapp.drivers import git
from codegenapp.drivers.forge.local_pulls import PullRecord
from codegenapp.drivers.forge.local_repo import LocalRepository, is_ancestor, tip
from codegenapp.errors import MergeRefused


async def merge_into_base(
    repo: LocalRepository, record: PullRecord, head: str, message: str
) -> tuple[str, bool]:
    """Put `head` into the base branch; return the merge commit and whether it was already
    there (the process died after moving the base, before recording the merge)."""
    base_branch = record.base_branch
    base = await tip(repo, base_branch)
    if base is None:
        raise MergeRefused(f"pull request #{record.number}: no base branch {base_branch!r}")
    if await is_ancestor(repo, head, base):
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


async def _merge_commit_of(repo: LocalRepository, base: str, head: str) -> str:
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
    repo: LocalRepository, record: PullRecord, base: str, head: str, message: str
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


async def _worktrees_on(repo: LocalRepository, branch: str) -> list[Path]:
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
