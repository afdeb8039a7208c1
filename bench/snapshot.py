"""Work-area creation: one commit checked out from a warm mirror, against a plain `git clone`.

A validation needs the files of one commit and a `.git` that knows it. A CI runner gets them with
`git clone file://<repo> <dir>`, copying the whole history; we take them from the project's bare
mirror (`LocalGitForge.fetch_snapshot`, through its real async API). The repository is built
here: a long history of commits touching source files and replacing binary assets, about 50 MB
of packed objects, with a checked-out tree far smaller than its history.

Each round measures both, alternating which goes first so they share the machine's noise, each
into a new directory and after `sync`, so neither pays for the other's buffered writes.
Reported: the medians over the rounds. Target: work-area creation ≥ 10× faster than the clone.
Also measured, not held to the target: a snapshot of a commit the mirror lacks (a new pull
request head), which pays for the mirror's refresh too.
Run: `make bench` (or `.venv/bin/python bench/snapshot.py [--runs N]`).
"""

import argparse
import asyncio
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from codegenapp.drivers.forge.local_git import LocalGitForge
from machine import describe

TARGET_RATIO = 10.0
SOURCE_FILES = 300
SOURCE_LINES = 150
ASSETS = 10
ASSET_BYTES = 66_000
COMMITS = 3000
CHANGED_PER_COMMIT = 4
ASSET_EVERY = 5  # commits between two replacements of a binary asset
GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}
WORDS = [f"w{n:04x}" for n in range(4096)]


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, input=stdin, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


class History:
    """A `git fast-import` stream of a project whose files keep changing."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.files = {
            f"src/module_{n:03d}.py": self.text(SOURCE_LINES) for n in range(SOURCE_FILES)
        }
        self.assets = {
            f"assets/image_{n:02d}.bin": self.rng.randbytes(ASSET_BYTES) for n in range(ASSETS)
        }
        self.stream = bytearray()
        self.commits = 0

    def text(self, lines: int) -> str:
        return "".join(" ".join(self.rng.choices(WORDS, k=12)) + "\n" for _ in range(lines))

    def data(self, payload: bytes) -> None:
        self.stream += f"data {len(payload)}\n".encode() + payload + b"\n"

    def commit(self, ref: str, *, parent: str | None, text: list[str], assets: list[str]) -> None:
        self.stream += f"commit {ref}\n".encode()
        when = 1_600_000_000 + self.commits * 600
        self.stream += f"committer Bench <bench@example.invalid> {when} +0000\n".encode()
        self.data(f"change {self.commits}".encode())
        if parent:
            self.stream += f"from {parent}\n".encode()
        for name in text:
            self.stream += f"M 100644 inline {name}\n".encode()
            self.data(self.files[name].encode())
        for name in assets:
            self.stream += f"M 100644 inline {name}\n".encode()
            self.data(self.assets[name])
        self.commits += 1

    def change(self, ref: str, parent: str | None) -> None:
        """A commit that rewrites a run of lines in a few files and sometimes replaces an asset."""
        text = self.rng.sample(sorted(self.files), CHANGED_PER_COMMIT)
        for name in text:
            lines = self.files[name].splitlines(keepends=True)
            start = self.rng.randrange(len(lines))
            lines[start : start + 20] = self.text(len(lines[start : start + 20])).splitlines(True)
            self.files[name] = "".join(lines)
        assets = [self.rng.choice(sorted(self.assets))] if self.commits % ASSET_EVERY == 0 else []
        for name in assets:
            self.assets[name] = self.rng.randbytes(ASSET_BYTES)
        self.commit(ref, parent=parent, text=text, assets=assets)

    def feed(self, repo: Path) -> None:
        git(repo, "fast-import", "--quiet", stdin=bytes(self.stream))
        self.stream.clear()


def make_repository(path: Path, history: History) -> None:
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    history.commit(
        "refs/heads/main", parent=None, text=sorted(history.files), assets=sorted(history.assets)
    )
    for _ in range(COMMITS - 1):
        history.change("refs/heads/main", parent=None)
    history.feed(path)
    # One pack with deltas recomputed (`-f`), as pushes and `gc` leave a repository;
    # fast-import's own deltas are poor and would make the history twice as large.
    git(path, "repack", "-a", "-d", "-f", "--quiet")
    git(path, "checkout", "--quiet", "-f", "main")


def sizes(repo: Path) -> tuple[int, int, int]:
    """Bytes of packed objects, bytes and number of files in the checked-out tree."""
    stats = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    listing = git(repo, "ls-tree", "-r", "-l", "HEAD").splitlines()
    tree_bytes = sum(int(line.split()[3]) for line in listing)
    return int(stats["size-pack"]) * 1024, tree_bytes, len(listing)


async def timed(make: Callable[[], Awaitable[None]]) -> float:
    os.sync()
    started = time.perf_counter()
    await make()
    return time.perf_counter() - started


async def measure(runs: int, work: Path) -> dict[str, list[float]]:
    repo = work / "repos" / "project"
    history = History(seed=1)
    started = time.perf_counter()
    make_repository(repo, history)
    pack, tree, files = sizes(repo)
    print(
        f"repository: {COMMITS} commits, {pack / 2**20:.1f} MiB of packed objects; "
        f"checked-out tree {tree / 2**20:.1f} MiB in {files} files "
        f"(built in {time.perf_counter() - started:.0f} s)"
    )
    forge = LocalGitForge([work / "repos"], mirror_dir=work / "mirrors")
    main = git(repo, "rev-parse", "main")
    await forge.fetch_snapshot(str(repo), main, work / "warm-up")  # makes the mirror; not counted
    areas = (work / "areas" / str(n) for n in itertools.count())

    async def clone() -> None:
        process = await asyncio.create_subprocess_exec(
            "git", "clone", "--quiet", f"file://{repo}", str(next(areas)), env=GIT_ENV
        )
        assert await process.wait() == 0

    async def known_commit() -> None:
        await forge.fetch_snapshot(str(repo), main, next(areas))

    new_heads: list[str] = []

    async def new_commit() -> None:
        await forge.fetch_snapshot(str(repo), new_heads[-1], next(areas))

    times: dict[str, list[float]] = {"clone": [], "known": [], "new": []}
    for n in range(runs):
        # A pull request head the mirror has not seen, made outside the timed part.
        history.change(f"refs/heads/pull-{n}", parent="refs/heads/main^0")
        history.feed(repo)
        new_heads.append(git(repo, "rev-parse", f"pull-{n}"))
        order = [("clone", clone), ("known", known_commit), ("new", new_commit)]
        for label, make in order if n % 2 == 0 else reversed(order):
            times[label].append(await timed(make))
    return times


def summary(label: str, samples: list[float]) -> str:
    return (
        f"{label:<44}{statistics.median(samples) * 1000:>9.1f} ms"
        f"   (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"
    )


async def main(runs: int) -> int:
    print(f"work-area creation benchmark, {runs} rounds (median)")
    print(f"machine: {describe()}")
    print(f"git: {git(Path.cwd(), '--version')}")
    with tempfile.TemporaryDirectory(prefix="codegenapp-bench-") as tmp:
        times = await measure(runs, Path(tmp))
    clone, known, new = (statistics.median(times[k]) for k in ("clone", "known", "new"))
    print()
    print(summary("git clone file://<repo> (a CI runner)", times["clone"]))
    print(summary("fetch_snapshot, commit already mirrored", times["known"]))
    print(summary("fetch_snapshot, new commit (mirror refresh)", times["new"]))
    print(f"\nratio clone / snapshot: {clone / known:.1f}x (new commit: {clone / new:.1f}x)")
    verdict = "meets" if clone / known >= TARGET_RATIO else "MISSES"
    print(f"work-area creation {verdict} the target of {TARGET_RATIO:.0f}x faster than a clone")
    print(f"machine after the run: {describe()}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
