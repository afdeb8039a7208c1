"""The `playwright` evaluator: the system's Chromium, driven by Playwright for Python.

One warm browser per process (`browser.WarmBrowser`); every evaluation gets fresh contexts:
one for the pages, visited in order, and one per scenario, so that no scenario starts with
another's cookies. Past the timeout, what was seen so far is returned, marked `timed_out`.
Each context is traced (`traces`): `trace.zip` for the pages, `scenario-N.zip` for scenario N,
written when the context ends, a timed-out one included.
"""

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from codegenapp.domain.artifacts import PAGES_TRACE, artifact_kind, scenario_artifact
from codegenapp.domain.web_eval_settings import Scenario, WebEvalSettings
from codegenapp.drivers.evaluator import Evaluation, PageVisit, ScenarioRun, traces
from codegenapp.drivers.evaluator.browser import WarmBrowser
from codegenapp.drivers.evaluator.pages import keep, visit
from codegenapp.drivers.evaluator.scenarios import play
from codegenapp.drivers.evaluator.watch import Watch

CLOSE_TIMEOUT_S = 10


class PlaywrightEvaluator:
    name = "playwright"

    def __init__(
        self,
        chromium: Path,
        *,
        state_dir: Path,
        preview_hosts: tuple[str, ...],
        traces: bool = True,
    ) -> None:
        """`traces`: record a Playwright trace of every context (off only to measure its cost)."""
        self._browser = WarmBrowser(chromium, state_dir=state_dir, preview_hosts=preview_hosts)
        self._traces = traces

    async def evaluate(
        self, base_url: str, settings: WebEvalSettings, artifacts_dir: Path, *, timeout: float
    ) -> Evaluation:
        started = time.monotonic()
        pages: list[PageVisit] = []
        scenarios: list[ScenarioRun] = []
        doing = ""
        try:
            async with asyncio.timeout(timeout):
                # An evaluation of scenarios alone has nothing to trace in this context.
                pages_trace = artifacts_dir / PAGES_TRACE if settings.pages else None
                async with self._session(base_url, pages_trace) as (context, watch):
                    # One tab goes from page to page, as a person's would: a new tab costs a
                    # renderer process (measured: ~1 s on a busy 2-core machine), and leaving
                    # a page stops its scripts anyway. A tab whose renderer crashed is replaced.
                    tab = _Tab(context)
                    for index, path in enumerate(settings.pages):
                        doing = f"page {path}"
                        accessibility = settings.accessibility != "off"
                        page = await tab.page()
                        pages.append(
                            await visit(
                                page, index, path, watch, artifacts_dir, accessibility=accessibility
                            )
                        )
                for index, scenario in enumerate(settings.scenarios):
                    doing = f'scenario "{scenario.name}"'
                    scenarios.append(await self._scenario(base_url, index, scenario, artifacts_dir))
                doing = ""
        except TimeoutError:
            pass
        return Evaluation(
            base_url,
            tuple(pages),
            tuple(scenarios),
            int((time.monotonic() - started) * 1000),
            timed_out=bool(doing),
            unfinished=doing,
            artifacts=_artifacts(artifacts_dir),
        )

    async def close(self) -> None:
        await self._browser.close()

    async def _scenario(
        self, base_url: str, index: int, scenario: Scenario, directory: Path
    ) -> ScenarioRun:
        trace = directory / scenario_artifact(index, "zip")
        async with self._session(base_url, trace) as (context, watch):
            page = await context.new_page()
            watch.start()
            steps = await play(page, scenario.steps, watch)
            text, shot, text_name = await keep(
                page,
                directory,
                screenshot=scenario_artifact(index, "png"),
                text=scenario_artifact(index, "txt"),
            )
            return ScenarioRun(scenario.name, steps, watch.seen(), text, shot, text_name)

    @contextlib.asynccontextmanager
    async def _session(
        self, base_url: str, trace: Path | None
    ) -> AsyncIterator[tuple[BrowserContext, Watch]]:
        """A fresh context that reaches only the preview, its events watched; traced, and the
        trace written to `trace` as it ends (unless tracing is off, or `trace` is None)."""
        watch = Watch(base_url)
        context = await self._browser.context(base_url, watch.blocked)
        traced = False
        try:
            watch.attach(context)
            traced = self._traces and trace is not None and await traces.start(context)
            yield context, watch
        finally:
            # Shielded: a cancelled (timed-out) evaluation still keeps its trace, and must not
            # leave its context in the browser.
            await asyncio.shield(self._end(context, trace if traced else None))

    async def _end(self, context: BrowserContext, trace: Path | None) -> None:
        """Write the context's trace (if it was traced), close it, and give it back."""
        try:
            if trace is not None:
                await traces.save(context, trace)
            with contextlib.suppress(PlaywrightError, TimeoutError):
                await asyncio.wait_for(context.close(), CLOSE_TIMEOUT_S)
        finally:
            await self._browser.release()


class _Tab:
    """The tab the pages are visited in, opened again if its renderer crashed."""

    def __init__(self, context: BrowserContext) -> None:
        self._context = context
        self._page: Page | None = None
        self._crashed = False

    async def page(self) -> Page:
        if self._page is None or self._crashed or self._page.is_closed():
            self._page = await self._context.new_page()
            self._crashed = False
            self._page.on("crash", self._on_crash)
        return self._page

    def _on_crash(self, _page: Page) -> None:
        self._crashed = True


def _artifacts(directory: Path) -> tuple[str, ...]:
    try:
        names = os.listdir(directory)
    except OSError:
        return ()
    return tuple(sorted(name for name in names if artifact_kind(name) is not None))
