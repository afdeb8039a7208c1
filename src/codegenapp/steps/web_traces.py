"""The Playwright traces of a web evaluation: kept when the step failed, for a person to replay
(`npx playwright show-trace trace.zip`), deleted when it passed.

The evaluator always writes them (it cannot know the verdict). A trace holds the pages' DOM
and the network's bodies, unmasked: a secret a page printed may be inside. So it stays on the
server, served only with the token like every artifact, and never reaches an agent or the
judge (nothing reads it here but its size). One over MAX_TRACE_BYTES is dropped, saying so in
the step's log: the API would not serve it anyway.
"""

import asyncio
import contextlib
import dataclasses
import os
from pathlib import Path

from codegenapp.artifacts import MAX_ARTIFACT_BYTES
from codegenapp.domain.artifacts import ArtifactKind, artifact_kind
from codegenapp.drivers.evaluator import Evaluation
from codegenapp.steps.log import StepLog

MAX_TRACE_BYTES = MAX_ARTIFACT_BYTES


async def settle(
    directory: Path, evaluation: Evaluation, log: StepLog, *, keep: bool
) -> Evaluation:
    """Keep the evaluation's traces (`keep`: the step fails) but those too large, or delete
    them all; the evaluation with the artifacts that remain. Idempotent."""
    removed, too_large = await asyncio.to_thread(
        _settle, directory, evaluation.artifacts, keep=keep
    )
    for name, size in too_large:
        await log.note(
            f"the Playwright trace {name} ({size / 2**20:.1f} MiB) is larger than "
            f"{MAX_TRACE_BYTES // 2**20} MiB: not kept"
        )
    if not removed:
        return evaluation
    kept = tuple(name for name in evaluation.artifacts if name not in removed)
    return dataclasses.replace(evaluation, artifacts=kept)


def _settle(
    directory: Path, names: tuple[str, ...], *, keep: bool
) -> tuple[set[str], list[tuple[str, int]]]:
    """Delete the traces among `names` that are not to be kept: the names deleted, and those
    of them deleted for their size (with it)."""
    removed, too_large = set(), []
    for name in names:
        if artifact_kind(name) is not ArtifactKind.TRACE:
            continue
        path = directory / name
        try:
            size = os.lstat(path).st_size
        except FileNotFoundError:
            removed.add(name)
            continue
        if keep and size <= MAX_TRACE_BYTES:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        removed.add(name)
        if keep:
            too_large.append((name, size))
    return removed, too_large
