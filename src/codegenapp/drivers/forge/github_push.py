"""Commits pushed to a GitHub repository for an agent that is not native to GitHub: made in
the repository's bare mirror with plumbing, then pushed over HTTPS with a lease, so that a
branch someone else moved meanwhile is never overwritten."""

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers import git
from codegenapp.drivers.forge import CommitRequest
from codegenapp.drivers.forge.mirror import Mirror
from codegenapp.drivers.git_commits import make_commit

PUSH_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Pushed:
    commit: str
    accepted: bool  # False: the lease failed (the branch moved), or the push did
    stderr: str  # git's words when it was refused, for the caller to mask and report


async def push_commit(
    mirror: Mirror, clone_url: str, change: CommitRequest, *, remote_env: Mapping[str, str]
) -> Pushed:
    """Make the commit on `change.parent` (fetched into the mirror first if need be) and push
    it to `change.branch` at `clone_url`, expecting the branch at `change.parent` (or absent,
    with `create`). `remote_env` carries the credentials, never the command line."""
    await mirror.ensure(change.parent, remote_env=remote_env)
    with tempfile.TemporaryDirectory(prefix="codegenapp-index-") as scratch:
        commit = await make_commit(mirror.path, change, scratch=Path(scratch) / "index")
    ref = f"refs/heads/{change.branch}"
    expected = "" if change.create else change.parent
    pushed = await git.run(
        ["--git-dir", str(mirror.path), "push", "--quiet", "--porcelain",
         f"--force-with-lease={ref}:{expected}", clone_url, f"{commit}:{ref}"],
        env=remote_env, accept=None, timeout=PUSH_TIMEOUT_SECONDS,
    )  # fmt: skip
    return Pushed(commit, pushed.exit_code == 0, pushed.stderr)
