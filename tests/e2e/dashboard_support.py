"""Driving the dashboard in the system's headless Chromium: launch flags, console watching,
screenshots, and a project whose first pull request fails its health check."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import ConsoleMessage, Error, Page
from tests.support.projects import APP, make_repository, recipe_text

CHROMIUM = "/usr/bin/chromium"
# Off the network, as TESTING.md asks; Playwright gives every launch a fresh, temporary profile.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
DIST = REPO_ROOT / "src" / "codegenapp" / "ui" / "dist"
ARTIFACTS = REPO_ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The first pull request's server reads a variable nobody sets, so it dies at start and the
# health check fails; the fix reads PORT, as the sandbox sets it.
CRASHING_APP = APP.replace('os.environ["PORT"]', 'os.environ["APP_PORT"]')
PLAN = "1. Answer GET /health.\n2. Keep the front page as it is.\n"
_FAILED_REQUEST = re.compile(
    r"Failed to load resource: the server responded with a status of (\d+)"
)


@dataclass
class ConsoleWatch:
    """Every console error and uncaught page error; the test fails on any it did not expect.

    Chromium itself logs a failed request ("Failed to load resource: … status of 422") as a
    console error: a test that provokes a refusal on purpose names that status with `expect`.
    """

    problems: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def expect(self, status: int) -> None:
        self.expected_statuses.add(status)

    def unexpected(self) -> list[str]:
        return [text for text in self.problems if not self._expected(text)]

    def _expected(self, text: str) -> bool:
        found = _FAILED_REQUEST.match(text)
        return bool(found) and int(found.group(1)) in self.expected_statuses

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(message.text)

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Kept as a test artifact (test-artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


@dataclass(frozen=True)
class FlakyHealthProject:
    repository: Path
    recipe: str


def flaky_health_project(tmp_path: Path) -> FlakyHealthProject:
    """The demo's story in small: a plan, a pull request that fails its health check, a fix."""
    repository = make_repository(tmp_path / "repo", {"app.py": APP.replace("ok", "hello")})
    recipe = recipe_text(
        [
            {"progress": ["Reading app.py"], "plan": PLAN},
            {
                "progress": ["Writing the /health route"],
                "title": "Add a /health endpoint",
                "reply": "Opened a pull request.",
                "files": {"app.py": CRASHING_APP},
            },
            {
                "progress": ["The server reads APP_PORT; the sandbox sets PORT"],
                "message": "Read the port from PORT",
                "files": {"app.py": APP},
            },
            {"reply": "Nothing else to change."},
        ],
    )
    return FlakyHealthProject(repository=repository, recipe=recipe)
