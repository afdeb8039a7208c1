"""A repository on this server's disk, as the local forge opens it: only under the configured
roots, whatever the caller names; and the few reads of its branches the forge needs."""

import asyncio
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers import git
from codegenapp.drivers.forge.local_pulls import PullStore
from codegenapp.errors import ForgeError, RepositoryInvalid

_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


@dataclass(frozen=True, slots=True)
class LocalRepository:
    path: Path
    git_dir: Path

    @property
    def pulls(self) -> PullStore:
        return PullStore(self.git_dir)

    def url(self, number: int) -> str:
        return f"file://{self.path}#pull-{number}"


def _under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


async def open_repository(repository: str, roots: Sequence[Path]) -> LocalRepository:
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
    return LocalRepository(resolved, git_dir)


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


async def tip(repo: LocalRepository, branch: str) -> str | None:
    """The commit a branch points at, or None if there is no such branch."""
    result = await git.run(
        ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
        cwd=repo.git_dir,
        accept=(0, 1, 128),
    )
    return result.text if result.exit_code == 0 else None


async def require_commit(repo: LocalRepository, sha: str) -> None:
    """Raise `ForgeError` unless `sha` is a full commit id the repository has."""
    if not _FULL_SHA.match(sha):
        raise ForgeError(f"{sha!r} is not a full commit id (40 or 64 lowercase hex digits)")
    found = await git.run(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=repo.git_dir, accept=None)
    if found.exit_code != 0:
        raise ForgeError(f"commit {sha} does not exist in {repo.path}")


async def branch_tips(repo: LocalRepository) -> dict[str, str]:
    listing = await git.output(
        ["for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads/"],
        cwd=repo.git_dir,
    )
    pairs = (line.split(" ", 1) for line in listing.splitlines() if line)
    return {name: sha for sha, name in pairs}


async def is_ancestor(repo: LocalRepository, ancestor: str, descendant: str) -> bool:
    result = await git.run(
        ["merge-base", "--is-ancestor", ancestor, descendant], cwd=repo.git_dir, accept=(0, 1)
    )
    return result.exit_code == 0
