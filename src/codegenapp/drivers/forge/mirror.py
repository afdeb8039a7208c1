"""Bare mirrors of forge repositories, and the fast checkout of one commit out of them.

Every validation needs the files of exactly one commit. Cloning the repository each time copies
its whole history; instead each repository gets one bare mirror, kept under a mirror directory
and refreshed by `git fetch` only when a wanted commit is not in it yet, and a work area receives
a pack of that one commit's objects plus its checked-out files.

Layout, for a repository URL whose key is `<name>-<hash of the URL>`:

    <mirror_dir>/<key>.git       the mirror; it only ever appears whole (renamed into place)
    <mirror_dir>/<key>.partial   a mirror being built; left behind only by a crash
    <mirror_dir>/<key>.lock      held (flock) by whoever creates or refreshes the mirror

Any forge can use it: the URL is what `git clone` accepts (`file://…`, `https://…`) and must not
carry credentials, since it is stored in the mirror's config and hashed into its name: a forge
that needs them passes `remote_env` (e.g. an `http.extraHeader` through `GIT_CONFIG_*`), which
reaches only the git processes that talk to the remote and is never written down.
"""

import asyncio
import hashlib
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers import git, state_files
from codegenapp.errors import ForgeError

FETCH_TIMEOUT_SECONDS = 600.0
"""One clone or fetch into a mirror: a first clone of a large repository takes minutes."""
CHECKOUT_TIMEOUT_SECONDS = 300.0
"""Packing and checking out one commit: bounded by the size of its tree, not of the history."""
LOCK_TIMEOUT_SECONDS = 2 * FETCH_TIMEOUT_SECONDS + 60.0
"""How long to wait for another worker's refresh: at worst it fetches twice (the refs, then the
commit itself), each within `FETCH_TIMEOUT_SECONDS`."""

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Mirror:
    """Where the mirror of the repository at `url` lives. Holds nothing else: every fact is on
    disk, so any worker in any process can use the same mirror."""

    url: str
    path: Path
    partial: Path
    lock: Path

    @classmethod
    def of(cls, mirror_dir: Path, url: str) -> "Mirror":
        """The mirror of `url` under `mirror_dir` (nothing is created yet)."""
        digest = hashlib.sha256(url.encode()).hexdigest()[:24]
        # The readable part only helps an operator find a mirror; the digest makes it unique.
        name = _UNSAFE_IN_NAME.sub("-", url.rstrip("/").rsplit("/", 1)[-1])[:40].strip(".-")
        key = f"{name or 'repository'}-{digest}"
        return cls(
            url=url,
            path=mirror_dir / f"{key}.git",
            partial=mirror_dir / f"{key}.partial",
            lock=mirror_dir / f"{key}.lock",
        )

    async def snapshot(
        self, sha: str, dest: Path, *, remote_env: Mapping[str, str] | None = None
    ) -> None:
        """Check out commit `sha` into `dest` (created; must not exist yet) with a `.git` that
        holds only that commit and names no host path, so `dest` works once moved anywhere.

        Creates or refreshes the mirror first if it lacks `sha`. Raise `ForgeError` if the
        repository does not have the commit or git fails. On failure `dest` may be left
        half-written: the caller removes it.
        """
        await self.ensure(sha, remote_env=remote_env)
        await self.check_out(sha, dest)

    async def ensure(self, sha: str, *, remote_env: Mapping[str, str] | None = None) -> None:
        """Make the mirror hold commit `sha`: nothing happens if it already does; otherwise the
        mirror is created (or rebuilt, if what is there is not a whole mirror) or refreshed.

        Idempotent and safe to call from any number of workers and processes at once. Raise
        `ForgeError` if the repository at `url` does not have the commit. `remote_env` is added
        to the environment of the git processes that fetch from `url` (credentials).
        """
        # The common case takes no lock: objects only ever appear whole in a repository (a pack
        # counts once its index is written), so a present commit comes with its whole tree.
        if await self._has(sha):
            return
        async with state_files.locked(self.lock, error=ForgeError, timeout=LOCK_TIMEOUT_SECONDS):
            if await self._has(sha):
                return  # another worker fetched it while this one waited
            if await self._is_whole():
                await self._fetch_refs(remote_env)
            else:
                await self._build(remote_env)
            if not await self._has(sha):
                await self._fetch_commit(sha, remote_env)

    async def check_out(self, sha: str, dest: Path) -> None:
        """Write commit `sha`, which the mirror must hold, into a new repository at `dest`.

        A pack of exactly the commit's objects goes into `dest/.git` and the commit is marked
        shallow (its parents are known to be absent), so `git rev-parse HEAD`, `status`, `log`
        and `fsck` work there. A `--shared` clone or a worktree saves a few tens of ms but
        leaves a `.git` that needs the mirror's path, which a sandbox does not have.
        """
        object_format = "sha256" if len(sha) == 64 else "sha1"
        await git.run(
            ["init", "--quiet", "--template=", f"--object-format={object_format}", str(dest)]
        )
        objects = await git.run(
            self._git("rev-list", "--objects", "--no-object-names", "--no-walk", sha),
            timeout=CHECKOUT_TIMEOUT_SECONDS,
        )
        # Packed from inside `dest`, reading the mirror as an alternate named only in the
        # environment: git writes its temporary pack next to where the pack ends up, and a work
        # area may be on another file system than the mirror (no rename across). No delta
        # search (`--window=0`): this pack lives for one validation, time is worth more than
        # bytes; deltas already in the mirror are copied as they are.
        await git.run(
            [
                "--git-dir",
                str(dest / ".git"),
                "pack-objects",
                "--quiet",
                "--window=0",
                "--delta-base-offset",
                str(dest / ".git" / "objects" / "pack" / "pack"),
            ],
            env={"GIT_ALTERNATE_OBJECT_DIRECTORIES": _quoted(self.path / "objects")},
            stdin=objects.stdout,
            timeout=CHECKOUT_TIMEOUT_SECONDS,
        )
        await asyncio.to_thread((dest / ".git" / "shallow").write_text, f"{sha}\n")
        await git.run(
            ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha],
            cwd=dest,
            timeout=CHECKOUT_TIMEOUT_SECONDS,
        )

    def _git(self, *argv: str) -> list[str]:
        """`git <argv>` run on the mirror itself: `--git-dir` keeps git from wandering up to an
        enclosing repository when the mirror is missing or broken."""
        return ["--git-dir", str(self.path), *argv]

    async def _has(self, sha: str) -> bool:
        found = await git.run(self._git("cat-file", "-e", f"{sha}^{{commit}}"), accept=None)
        return found.exit_code == 0

    async def _is_whole(self) -> bool:
        """Whether a whole mirror of `url` is in place. Anything else at its path (garbage, a
        directory someone copied in part) is not trusted: the caller rebuilds it."""
        # `git remote` refuses (exit 128) anything that is not a git directory.
        origin = await git.run(self._git("remote", "get-url", "origin"), accept=None)
        return origin.exit_code == 0 and origin.text == self.url

    async def _build(self, remote_env: Mapping[str, str] | None) -> None:
        """Clone the mirror under its temporary name and rename it into place, so its final
        path never holds a half-made mirror; the caller holds the lock."""
        await asyncio.to_thread(shutil.rmtree, self.partial, ignore_errors=True)
        await asyncio.to_thread(shutil.rmtree, self.path, ignore_errors=True)
        await git.run(
            ["clone", "--quiet", "--mirror", "--template=", "--", self.url, str(self.partial)],
            env=remote_env,
            timeout=FETCH_TIMEOUT_SECONDS,
        )
        try:
            await asyncio.to_thread(self.partial.rename, self.path)
        except OSError as error:
            raise ForgeError(f"could not put the mirror of {self.url} in place: {error}") from None

    async def _fetch_refs(self, remote_env: Mapping[str, str] | None) -> None:
        """Bring every ref up to date (a mirror's refspec is `+refs/*:refs/*`). A fetch cut short
        leaves the mirror as it was: git adds a pack only once it is whole, and refs last."""
        await git.run(
            self._git("fetch", "--quiet", "--prune", "--no-write-fetch-head", "origin"),
            env=remote_env,
            timeout=FETCH_TIMEOUT_SECONDS,
        )

    async def _fetch_commit(self, sha: str, remote_env: Mapping[str, str] | None) -> None:
        """Fetch a commit that no ref reaches (protocol v2 serves any object by id). No ref keeps
        it, and nothing here runs `gc`: were it ever pruned, the next `ensure` fetches it again."""
        fetched = await git.run(
            self._git("fetch", "--quiet", "--no-write-fetch-head", "origin", sha),
            env=remote_env,
            timeout=FETCH_TIMEOUT_SECONDS,
            accept=None,
        )
        if fetched.exit_code != 0 or not await self._has(sha):
            why = fetched.stderr.splitlines()[-1:] or ["(no message)"]
            raise ForgeError(f"commit {sha} does not exist in {self.url} ({why[0]})")


def _quoted(path: Path) -> str:
    """`path` as one entry of GIT_ALTERNATE_OBJECT_DIRECTORIES, which is split at colons
    unless the entry is a C-style quoted string."""
    escaped = str(path).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
