"""Playwright traces of the evaluation's browser contexts: what the browser did, step by step,
with DOM snapshots, screenshots and the network, to be opened with `npx playwright show-trace`.

Every context is traced and its trace written into the artifacts directory when the context
ends, timed out or not: the evaluator cannot know whether the step fails (the step decides,
and drops the traces of a step that passed). A trace holds the pages' content and the
network's bodies, unmasked: it is kept for people with the token, never shown to an agent or
a judge.
"""

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from codegenapp.files import PRIVATE_FILE

log = logging.getLogger(__name__)
# Playwright's driver writes the zip: a few hundred KiB for a page, more for long scenarios.
# Bounded, so that a timed-out evaluation still ends within the step's own margin.
SAVE_TIMEOUT_S = 15


async def start(context: BrowserContext) -> bool:
    """Trace `context` from now on: actions, DOM snapshots, screenshots, network (not our
    Python sources: they say nothing of the page). Whether tracing started: a trace is extra
    evidence, so its failure never fails the evaluation."""
    try:
        await context.tracing.start(screenshots=True, snapshots=True, sources=False)
    except PlaywrightError as error:
        log.warning("no Playwright trace of this context: %s", error)
        return False
    return True


async def save(context: BrowserContext, path: Path) -> bool:
    """Stop tracing `context` and write the trace to `path` (mode 0600); whether it was
    written. Never raises for the browser's failures (a crashed or closed context has no
    trace to give). The zip is written beside `path` under a name no artifact can have, then
    renamed: a reader never sees half a trace."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        await asyncio.wait_for(context.tracing.stop(path=partial), SAVE_TIMEOUT_S)
        os.chmod(partial, PRIVATE_FILE)
        os.replace(partial, path)
    except (PlaywrightError, TimeoutError, OSError) as error:
        log.warning("no Playwright trace kept at %s: %s", path, error)
        with contextlib.suppress(OSError):
            os.unlink(partial)
        return False
    return True
