"""Opening one page of the preview, and keeping what a person would see of it: a full-page
screenshot and the page's accessibility tree as text."""

import asyncio
import contextlib
import time
from pathlib import Path

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from codegenapp.domain.artifacts import page_artifact
from codegenapp.drivers.evaluator import PageVisit
from codegenapp.drivers.evaluator.axe import violations
from codegenapp.drivers.evaluator.watch import Watch
from codegenapp.files import write_private

NAVIGATION_MS = 30_000
# After `load`, until the network is quiet: an error thrown on the first fetch's answer is
# the page's too. Bounded: a page that polls forever is never quiet.
SETTLE_MS = 3_000
SCREENSHOT_MS = 15_000
TEXT_CHARS = 4_000  # in the evaluation, hence in the agent's error context
TEXT_ARTIFACT_CHARS = 64_000


async def settle(page: Page) -> None:
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_load_state("networkidle", timeout=SETTLE_MS)


async def keep(
    page: Page, directory: Path, *, screenshot: str, text: str
) -> tuple[str, str | None, str | None]:
    """The page's text (truncated), and the names of the screenshot and text artifacts
    written (None where the page could not give one: it crashed, or closed)."""
    shot: str | None = screenshot
    try:
        image = await page.screenshot(full_page=True, type="png", timeout=SCREENSHOT_MS)
        await asyncio.to_thread(write_private, directory / screenshot, image, durable=False)
    except PlaywrightError:
        shot = None
    try:
        tree = await page.locator("body").aria_snapshot(timeout=SCREENSHOT_MS)
    except PlaywrightError as error:
        return f"(no text: {first_line(error)})", shot, None
    kept = tree[:TEXT_ARTIFACT_CHARS]
    await asyncio.to_thread(write_private, directory / text, kept.encode(), durable=False)
    return _truncated(tree, TEXT_CHARS), shot, text


async def visit(
    page: Page, index: int, path: str, watch: Watch, directory: Path, *, accessibility: bool
) -> PageVisit:
    """Open `path` (page `index` of the settings) and say what was seen."""
    watch.start()
    started = time.monotonic()
    try:
        response = await page.goto(path, wait_until="load", timeout=NAVIGATION_MS)
    except PlaywrightError as error:
        load_ms = int((time.monotonic() - started) * 1000)
        text, shot, text_name = await keep(
            page,
            directory,
            screenshot=page_artifact(index, "png"),
            text=page_artifact(index, "txt"),
        )
        return PageVisit(
            path, None, load_ms, watch.seen(), text, shot, text_name, error=first_line(error)
        )
    load_ms = int((time.monotonic() - started) * 1000)
    await settle(page)
    found = await violations(page) if accessibility else ()
    text, shot, text_name = await keep(
        page, directory, screenshot=page_artifact(index, "png"), text=page_artifact(index, "txt")
    )
    status = response.status if response is not None else None
    return PageVisit(
        path, status, load_ms, watch.seen(), text, shot, text_name, accessibility=found
    )


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


def _truncated(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters in the page text artifact)"
