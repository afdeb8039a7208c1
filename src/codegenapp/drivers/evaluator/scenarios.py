"""Playing a scenario as a person would: open a path, click what is named so, type into the
field labelled so, look for a text or an address; until a step fails.

A failing step says what it expected and what was there instead, in words an agent can act
on: the buttons and links the page did have, the fields it did label, the text it did show.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from codegenapp.domain.web_eval_settings import ScenarioStep
from codegenapp.drivers.evaluator import StepOutcome
from codegenapp.drivers.evaluator.pages import NAVIGATION_MS, first_line, settle
from codegenapp.drivers.evaluator.watch import Watch

ACTION_MS = 5_000
Clickable = Literal["button", "link", "menuitem", "tab", "checkbox", "radio", "switch", "option"]
CLICKABLE_ROLES: tuple[Clickable, ...] = get_args(Clickable)
SHOWN_NAMES = 20
SHOWN_TEXT = 400
_NAMES = """([selector, limit]) => Array.from(document.querySelectorAll(selector))
  .map((element) => (element.getAttribute("aria-label") || element.labels?.[0]?.innerText
                     || element.placeholder || element.innerText || element.value || "").trim())
  .filter((name) => name).slice(0, limit)"""
_CLICKABLE = "button, a[href], [role=button], [role=link], input[type=submit], input[type=button]"
_FIELDS = "input:not([type=hidden]), textarea, select, [contenteditable=true]"


@dataclass(frozen=True, slots=True)
class _Result:
    passed: bool
    expected: str
    seen: str


async def play(page: Page, steps: list[ScenarioStep], watch: Watch) -> tuple[StepOutcome, ...]:
    """Run `steps` in order on `page`; the outcomes up to and including the first failure."""
    outcomes = []
    for index, step in enumerate(steps):
        action, result = await _run(page, step, watch)
        outcomes.append(StepOutcome(index, action, result.expected, result.seen, result.passed))
        if not result.passed:
            break
    return tuple(outcomes)


async def _run(page: Page, step: ScenarioStep, watch: Watch) -> tuple[str, _Result]:
    if step.goto is not None:
        return f"goto {step.goto}", await _goto(page, step.goto)
    if step.click is not None:
        return f'click "{step.click}"', await _click(page, step.click, watch)
    if step.fill is not None:
        action = f'fill "{step.fill.label}"'
        return action, await _fill(page, step.fill.label, step.fill.value, watch)
    if step.expect_text is not None:
        return f'expect_text "{step.expect_text}"', await _expect_text(page, step.expect_text)
    assert step.expect_url is not None
    return f"expect_url {step.expect_url}", await _expect_url(page, step.expect_url, watch)


async def _goto(page: Page, path: str) -> _Result:
    expected = f"GET {path} loads (HTTP 2xx or 3xx)"
    try:
        response = await page.goto(path, wait_until="load", timeout=NAVIGATION_MS)
    except PlaywrightError as error:
        return _Result(False, expected, f"it did not load: {first_line(error)}")
    await settle(page)
    if response is not None and response.status >= 400:
        return _Result(False, expected, f"it answered {response.status} {response.status_text}")
    status = f" (HTTP {response.status})" if response is not None else ""
    return _Result(True, expected, f"loaded{status}")


async def _click(page: Page, name: str, watch: Watch) -> _Result:
    expected = f'a button, link or text named "{name}" to click'
    target = page.get_by_text(name, exact=True)
    for role in reversed(CLICKABLE_ROLES):
        target = page.get_by_role(role, name=name, exact=True).or_(target)
    try:
        await target.first.click(timeout=ACTION_MS)
    except PlaywrightTimeout:
        there = await _names(page, _CLICKABLE)
        seen = f"nothing by that name could be clicked within {ACTION_MS // 1000} s on "
        return _Result(False, expected, seen + f"{watch.relative(page.url)}; {there}")
    except PlaywrightError as error:
        return _Result(False, expected, f"the click failed: {first_line(error)}")
    with contextlib.suppress(PlaywrightError):
        await page.wait_for_load_state("load", timeout=ACTION_MS)
    return _Result(True, expected, "clicked")


async def _fill(page: Page, label: str, value: str, watch: Watch) -> _Result:
    expected = f'a field labelled "{label}" to type into'
    target: Locator = (
        page.get_by_label(label, exact=True)
        .or_(page.get_by_placeholder(label, exact=True))
        .or_(page.get_by_role("textbox", name=label, exact=True))
    )
    try:
        await target.first.fill(value, timeout=ACTION_MS)
    except PlaywrightTimeout:
        there = await _names(page, _FIELDS, what="fields")
        seen = f"no field by that label could be filled within {ACTION_MS // 1000} s on "
        return _Result(False, expected, seen + f"{watch.relative(page.url)}; {there}")
    except PlaywrightError as error:
        return _Result(False, expected, f"typing failed: {first_line(error)}")
    return _Result(True, expected, "typed")


async def _expect_text(page: Page, text: str) -> _Result:
    expected = f'the page shows "{text}"'
    try:
        await page.get_by_text(text).first.wait_for(state="visible", timeout=ACTION_MS)
    except PlaywrightError:
        shown = await _shown_text(page)
        return _Result(
            False, expected, f"not within {ACTION_MS // 1000} s; the page shows: {shown}"
        )
    return _Result(True, expected, "shown")


async def _expect_url(page: Page, path: str, watch: Watch) -> _Result:
    wanted = urlsplit(path)

    def matches(url: str) -> bool:
        here = urlsplit(watch.relative(url))
        return here.path == wanted.path and (not wanted.query or here.query == wanted.query)

    expected = f"the page is at {path}"
    try:
        await page.wait_for_url(matches, wait_until="commit", timeout=ACTION_MS)
    except PlaywrightError:
        seen = f"after {ACTION_MS // 1000} s the page is at {watch.relative(page.url)}"
        return _Result(False, expected, seen)
    return _Result(True, expected, f"at {watch.relative(page.url)}")


async def _names(page: Page, selector: str, *, what: str = "buttons and links") -> str:
    """`what` the page does have, by name, as a person would read them."""
    try:
        names = await asyncio.wait_for(page.evaluate(_NAMES, [selector, SHOWN_NAMES]), 3)
    except (PlaywrightError, TimeoutError):
        return f"its {what} could not be read"
    if not isinstance(names, list) or not names:
        return f"it has no {what}"
    listed = ", ".join(f'"{str(name)[:60]}"' for name in names)
    return f"its {what}: {listed}"


async def _shown_text(page: Page) -> str:
    try:
        text = await asyncio.wait_for(page.locator("body").inner_text(timeout=ACTION_MS), 6)
    except (PlaywrightError, TimeoutError):
        return "(its text could not be read)"
    flat = " ".join(text.split())
    return f'"{flat[:SHOWN_TEXT]}{"…" if len(flat) > SHOWN_TEXT else ""}"'
