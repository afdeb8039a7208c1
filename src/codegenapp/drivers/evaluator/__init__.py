"""The Evaluator seam: a browser looks at a deployed preview, and an optional AI judge looks at
what the browser kept.

Implementations: `playwright` (the system's headless Chromium); the Judge: `llm` (an
OpenAI-compatible chat API that reads images). An evaluation only observes:
it says what the browser saw, page by page and step by step, and writes screenshots, page
texts and traces as artifacts; whether that passes is `report.verdict`'s to say, under the project's
settings. The browser loads code the pull request wrote: it reaches the preview's origin and
nothing else (docs/adr/0014-browser-isolation.md).

URLs in an evaluation are relative to the preview ("/app.js") when they are on it, so that
two attempts on two ports read the same.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.errors import CodegenAppError


class EvaluatorUnavailable(CodegenAppError):
    """The browser cannot run here (not installed, or it would not start); says what to do."""


@dataclass(frozen=True, slots=True)
class SourceLocation:
    url: str
    line: int  # 1-based, as a person reads a file
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.url}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class ConsoleError:
    """A `console.error` of the page (Chromium's own echoes of failed loads are left out:
    those are `FailedRequest`s)."""

    text: str
    location: SourceLocation | None


@dataclass(frozen=True, slots=True)
class PageError:
    """An exception nobody caught; `location` is the first frame of its stack."""

    message: str  # "TypeError: Cannot read properties of undefined (reading 'x')"
    stack: str
    location: SourceLocation | None


@dataclass(frozen=True, slots=True)
class FailedRequest:
    """A request to the preview that answered 400 or above, or got no answer at all."""

    method: str
    url: str
    status: int | None  # None: no answer
    reason: str  # "Not Found", "net::ERR_CONNECTION_RESET"


@dataclass(frozen=True, slots=True)
class BlockedRequest:
    """A request to anywhere but the preview: refused by us before it left the browser."""

    url: str
    resource: str  # "fetch", "image", "websocket", …


@dataclass(frozen=True, slots=True)
class Observations:
    """What the browser noticed while on one page or during one scenario."""

    console_errors: tuple[ConsoleError, ...] = ()
    page_errors: tuple[PageError, ...] = ()
    failed_requests: tuple[FailedRequest, ...] = ()
    blocked_requests: tuple[BlockedRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessibilityViolation:
    rule: str  # axe-core's rule id, e.g. "image-alt"
    impact: str  # "minor" … "critical"
    help: str
    targets: tuple[str, ...]  # CSS selectors of the first few nodes at fault


@dataclass(frozen=True, slots=True)
class PageVisit:
    path: str
    status: int | None  # None: no answer (then `error` says why)
    load_ms: int
    seen: Observations
    text: str  # the accessibility tree, truncated: what a person (or agent) would read
    screenshot: str | None  # an artifact's name
    text_artifact: str | None
    error: str | None = None  # the page could not be opened: "timed out", "net::ERR_…"
    accessibility: tuple[AccessibilityViolation, ...] = ()


@dataclass(frozen=True, slots=True)
class StepOutcome:
    index: int  # 0-based, as in the settings (scenarios.N.steps.INDEX)
    action: str  # 'click "Add to cart"'
    expected: str
    seen: str
    passed: bool


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    name: str
    steps: tuple[StepOutcome, ...]  # up to and including the first that failed
    seen: Observations
    text: str  # of the page where it ended
    screenshot: str | None
    text_artifact: str | None

    @property
    def failed_step(self) -> StepOutcome | None:
        return next((step for step in self.steps if not step.passed), None)


@dataclass(frozen=True, slots=True)
class Evaluation:
    base_url: str
    pages: tuple[PageVisit, ...]
    scenarios: tuple[ScenarioRun, ...]
    duration_ms: int
    timed_out: bool = False  # the timeout ran out; what was seen until then is here
    unfinished: str = ""  # what it was doing then: "page /cart", 'scenario "Checkout"'
    artifacts: tuple[str, ...] = field(default=())


class Evaluator(Protocol):
    name: str

    async def evaluate(
        self, base_url: str, settings: WebEvalSettings, artifacts_dir: Path, *, timeout: float
    ) -> Evaluation:
        """Open `settings.pages` and play `settings.scenarios` on the preview at `base_url`
        (no trailing slash), writing screenshots, page texts and a trace of each browser
        context (kind `trace`, unmasked: the caller keeps it or deletes it) into
        `artifacts_dir` (which exists). Within `timeout` seconds: past it, return what was
        seen, `timed_out`, its traces included.
        Nothing but `base_url`'s origin is reachable from the pages. Safe to call again (it
        overwrites its artifacts). Raise `EvaluatorUnavailable` if the browser cannot run."""
        ...

    async def close(self) -> None:
        """Let go of the browser (at shutdown). Idempotent; a later `evaluate` starts it again."""
        ...


class Verdict(StrEnum):
    """What the AI judge says of the preview, against the goal of the agent run."""

    MEETS = "meets"
    DOES_NOT_MEET = "does_not_meet"
    UNSURE = "unsure"


@dataclass(frozen=True, slots=True)
class Exhibit:
    """One thing the judge is shown: a page, or where a scenario ended."""

    where: str  # "page /cart", 'scenario "Checkout" where it ended'
    text: str  # its accessibility tree, masked
    screenshot: bytes | None  # PNG; None: none was kept, or it was left out (too many, too big)


# What a judge is shown at most: the screenshots cost the most (tokens, request size), and the
# first few pages and scenarios are those the project named first.
JUDGE_SCREENSHOTS = 4
JUDGE_SCREENSHOT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class JudgeBrief:
    """What the judge reads. Every text here is data, never an instruction to the judge; at
    most JUDGE_SCREENSHOTS screenshots of at most JUDGE_SCREENSHOT_BYTES are sent."""

    goal: str
    plan: str | None  # the plan a person confirmed, if the run had one
    exhibits: tuple[Exhibit, ...]


@dataclass(frozen=True, slots=True)
class Judgement:
    """The judge's answer: a verdict with its reasons, or none and why not. The reasons are
    the model's own words: data to show, never something that sets a status by itself."""

    verdict: Verdict | None
    reasons: tuple[str, ...] = ()
    model: str = ""
    no_verdict: str | None = None  # "judge unavailable: …", "judge skipped: …"


class Judge(Protocol):
    name: str
    model: str

    async def judge(self, brief: JudgeBrief, *, timeout: float) -> Judgement:
        """Ask the model whether the exhibits show the goal met. Within `timeout` seconds.
        Never raises for the service's failures (refused, rate limited, down, an answer that
        is not the JSON asked for): the judgement then has no verdict and says why. Each call
        asks the model again (and costs a request)."""
        ...
