"""Commits made by the orchestrator on an agent's behalf, with git's plumbing and a scratch
index: no work tree is touched (a bare repository or mirror is enough), and the same inputs make
the same commit, so a step replayed after a crash finds its commit instead of adding another."""

import asyncio
from pathlib import Path

from codegenapp.drivers import git
from codegenapp.drivers.forge import CommitRequest


async def make_commit(repository: Path, change: CommitRequest, *, scratch: Path) -> str:
    """Write the commit's objects into `repository` (refs untouched); its sha. `scratch`: a
    path for the temporary index, removed afterwards."""
    stamp = f"{change.date} +0000"
    env = {
        "GIT_INDEX_FILE": str(scratch),
        "GIT_AUTHOR_NAME": change.author,  # committed by CodegenApp (git.py), written by them
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    try:
        await git.run(["read-tree", change.parent], cwd=repository, env=env)
        blobs = await asyncio.gather(
            *(
                git.output(
                    ["hash-object", "-w", "--no-filters", "--stdin"],
                    cwd=repository,
                    stdin=text.encode("utf-8"),
                )
                for _, text in change.files
            )
        )
        # Mode 0 removes a path; `--force-remove` would need a work tree (bare repositories).
        removed = "0" * len(change.parent)
        paths = [path for path, _ in change.files]
        entries = [f"100644 {blob}\t{path}\n" for blob, path in zip(blobs, paths, strict=True)]
        entries += [f"0 {removed}\t{path}\n" for path in change.deletes]
        info = "".join(entries).encode("utf-8")
        await git.run(["update-index", "--index-info"], cwd=repository, env=env, stdin=info)
        tree = await git.output(["write-tree"], cwd=repository, env=env)
    finally:
        await asyncio.to_thread(scratch.unlink, missing_ok=True)
    return await git.output(
        ["commit-tree", "--no-gpg-sign", tree, "-p", change.parent, "-m", change.message],
        cwd=repository,
        env=env,
    )
