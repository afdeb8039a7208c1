"""A real headless Chromium on the dashboard, served by the real back end (`server`)."""

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from tests.e2e.dashboard_support import CHROMIUM, CHROMIUM_FLAGS, DESKTOP, DIST, ConsoleWatch

# The flows take seconds; UI states are waited for, never slept on.
expect.set_options(timeout=60_000)


@pytest.fixture
def dashboard_build() -> None:
    assert (DIST / "index.html").is_file(), (
        f"the dashboard is not built in {DIST}: run `make setup` (it builds frontend/)"
    )


@pytest.fixture
async def browser(dashboard_build: None) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
async def page(browser: Browser, console: ConsoleWatch) -> AsyncIterator[Page]:
    """A desktop-sized page; the test fails on any console error it did not expect."""
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    console.attach(page)
    try:
        yield page
    finally:
        await context.close()
    assert not console.unexpected(), f"the browser console reported errors: {console.unexpected()}"
