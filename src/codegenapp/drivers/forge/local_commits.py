"""Commits pushed to a repository on this server's disk for an agent (the scripted agent, a
command-line agent): made with plumbing, the branch moved by compare-and-swap."""

import tempfile
from pathlib import Path

from codegenapp.drivers import git
from codegenapp.drivers.forge import CommitRequest
from codegenapp.drivers.git_commits import make_commit
from codegenapp.errors import ForgeError


async def push_commit(repository: Path, change: CommitRequest) -> str:
    """The commit's sha, with `change.branch` moved to it (see `Forge.push_commit`)."""
    with tempfile.TemporaryDirectory(prefix="codegenapp-index-") as scratch:
        commit = await make_commit(repository, change, scratch=Path(scratch) / "index")
    await _move_branch(
        repository, change.branch, commit, old="" if change.create else change.parent
    )
    return commit


async def _move_branch(repository: Path, branch: str, commit: str, *, old: str) -> None:
    """Compare-and-swap the branch from `old` ("" = must not exist) to `commit`; finding it
    already at `commit` is success (a replayed turn)."""
    ref = f"refs/heads/{branch}"
    moved = await git.run(
        ["update-ref", "-m", "agent commit", ref, commit, old], cwd=repository, accept=None
    )
    if moved.exit_code == 0:
        return
    now = await git.run(["rev-parse", "--verify", "--quiet", ref], cwd=repository, accept=None)
    if now.text != commit:
        raise ForgeError(
            f"branch {branch!r} moved while the agent's commit was pushed: {moved.stderr}"
        )
