"""Real git on the bare repositories behind the fake: commits, refs, merges, rebases."""

import asyncio
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40


class GitFailed(Exception):
    """git exited non-zero where the fake expected success; the message carries its stderr."""


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    email: str

    def env(self) -> dict[str, str]:
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    message: str
    author: Identity
    timestamp: str
    added: list[str]
    removed: list[str]
    modified: list[str]


GITHUB_IDENTITY = Identity("GitHub", "noreply@github.com")


def clean_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment git runs in: no user or system config can change what it does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    return env | dict(extra)


async def run(
    git_dir: Path | None,
    *args: str,
    stdin: bytes | None = None,
    env: Mapping[str, str] = {},
    cwd: Path | None = None,
    ok: tuple[int, ...] = (0,),
) -> tuple[int, bytes]:
    """Runs git and returns (exit code, stdout); raises GitFailed for a code not in `ok`."""
    prefix = ["--git-dir", str(git_dir)] if git_dir is not None else []
    process = await asyncio.create_subprocess_exec(
        "git",
        *prefix,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(env),
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    code = process.returncode if process.returncode is not None else -1
    if code not in ok:
        raise GitFailed(f"git {' '.join(args)} exited {code}: {err.decode(errors='replace')}")
    return code, out


async def output(git_dir: Path, *args: str, env: Mapping[str, str] = {}) -> str:
    return (await run(git_dir, *args, env=env))[1].decode().strip()


async def init_bare(git_dir: Path, default_branch: str) -> None:
    git_dir.parent.mkdir(parents=True, exist_ok=True)
    await run(None, "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(git_dir))
    # Pushes over smart HTTP are refused unless the repository opts in.
    await run(git_dir, "config", "http.receivepack", "true")


async def resolve(git_dir: Path, ref: str) -> str | None:
    """The commit `ref` names (branch, tag or sha), or None."""
    code, out = await run(
        git_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1)
    )
    return out.decode().strip() if code == 0 else None


async def refs(git_dir: Path) -> dict[str, str]:
    listing = await output(git_dir, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in listing.splitlines() if line)


async def update_ref(git_dir: Path, ref: str, new: str, old: str | None) -> None:
    """Moves `ref` to `new` only if it still points at `old` (None: only if it is absent)."""
    await run(git_dir, "update-ref", ref, new, old or ZERO_SHA)


async def commit_files(
    git_dir: Path,
    *,
    parent: str | None,
    files: Mapping[str, str | bytes | None],
    message: str,
    author: Identity,
) -> str:
    """A new commit on top of `parent` with `files` written (None deletes); refs are unchanged."""
    index = git_dir / f"fake-index-{uuid.uuid4().hex}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        await run(git_dir, "read-tree", *([parent] if parent else ["--empty"]), env=env)
        for path, content in files.items():
            if content is None:
                await run(git_dir, "update-index", "--force-remove", path, env=env)
                continue
            data = content.encode() if isinstance(content, str) else content
            blob = (await run(git_dir, "hash-object", "-w", "--stdin", stdin=data))[1].decode()
            cacheinfo = f"100644,{blob.strip()},{path}"
            await run(git_dir, "update-index", "--add", "--cacheinfo", cacheinfo, env=env)
        tree = await output(git_dir, "write-tree", env=env)
    finally:
        index.unlink(missing_ok=True)
    return await commit_tree(git_dir, tree, [parent] if parent else [], message, author)


async def commit_tree(
    git_dir: Path, tree: str, parents: list[str], message: str, author: Identity
) -> str:
    parent_args = [arg for parent in parents for arg in ("-p", parent)]
    return await output(git_dir, "commit-tree", tree, *parent_args, "-m", message, env=author.env())


async def merged_tree(git_dir: Path, base: str, head: str) -> str | None:
    """The tree of merging `head` into `base`, or None when they conflict."""
    code, out = await run(git_dir, "merge-tree", "--write-tree", base, head, ok=(0, 1))
    return out.decode().splitlines()[0] if code == 0 else None


async def commits_between(git_dir: Path, base: str, head: str) -> list[str]:
    """Commits reachable from `head` and not from `base`, oldest first."""
    listing = await output(git_dir, "rev-list", "--reverse", f"{base}..{head}")
    return listing.split()


async def rebase(git_dir: Path, *, onto: str, head: str, committer: Identity) -> str | None:
    """`head`'s commits replayed onto `onto`; None when one does not apply."""
    scratch = git_dir.parent / f"rebase-{uuid.uuid4().hex}"
    await run(git_dir, "worktree", "add", "--quiet", "--detach", str(scratch), head)
    try:
        env = {
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
        }
        code, _ = await run(None, "rebase", "--quiet", onto, cwd=scratch, env=env, ok=(0, 1))
        if code != 0:
            return None
        return (await run(None, "rev-parse", "HEAD", cwd=scratch))[1].decode().strip()
    finally:
        await run(git_dir, "worktree", "remove", "--force", str(scratch))


async def describe(git_dir: Path, sha: str) -> CommitInfo:
    """What a push payload says about one commit."""
    fields = await output(git_dir, "show", "-s", "--format=%an%x00%ae%x00%aI%x00%B", sha)
    name, email, timestamp, message = fields.split("\x00", 3)
    changes = await output(
        git_dir, "diff-tree", "--no-commit-id", "--root", "--name-status", "-r", sha
    )
    kinds: dict[str, list[str]] = {"A": [], "D": [], "M": []}
    for line in changes.splitlines():
        kind, path = line.split("\t", 1)
        kinds.setdefault(kind[0], []).append(path)
    return CommitInfo(
        sha, message.strip(), Identity(name, email), timestamp, kinds["A"], kinds["D"], kinds["M"]
    )


async def is_ancestor(git_dir: Path, ancestor: str, descendant: str) -> bool:
    code, _ = await run(git_dir, "merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1))
    return code == 0


async def tree_of(git_dir: Path, sha: str) -> str:
    return await output(git_dir, "rev-parse", f"{sha}^{{tree}}")
