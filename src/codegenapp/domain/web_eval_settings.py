"""`validation_settings.web_eval`: which pages of the deployed preview a browser opens, and
which scenarios it plays on them, written as a person describes a page (accessible names and
visible text, never CSS selectors).

    {"pages": ["/", "/cart"],
     "scenarios": [{"name": "Add to cart",
                    "steps": [{"goto": "/"}, {"click": "Add to cart"},
                              {"fill": {"label": "Email", "value": "a@example.com"}},
                              {"expect_text": "1 item"}, {"expect_url": "/cart"}]}],
     "allow_console_errors": false, "allow_failed_requests": false,
     "accessibility": "off", "judge": false, "timeout_seconds": 60}

A step has exactly one key. Paths are paths on the preview: they start with one '/', so that no
setting can point the browser at another host ('//evil.example' would).
"""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from codegenapp.domain.limits import STORABLE

MAX_PAGES = 20
MAX_SCENARIOS = 20
MAX_STEPS = 50
MAX_TEXT_LENGTH = 500
MAX_VALUE_LENGTH = 2000
MAX_PATH_LENGTH = 2048
STEP_KINDS = ("goto", "click", "fill", "expect_text", "expect_url")
# One leading '/', then no second '/' or '\' (browsers read '/\host' as '//host'), no white
# space or control character anywhere.
_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")


def check_preview_path(value: str) -> str:
    """Raise `ValueError` unless `value` is a path on the preview (see `_PATH`)."""
    if not _PATH.fullmatch(value):
        raise ValueError(
            "must be a path on the preview starting with a single '/' (e.g. /cart), without "
            "white space or backslashes"
        )
    return value


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH), STORABLE]
PreviewPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PATH_LENGTH,
        description="A path on the preview, starting with '/', e.g. /cart?coupon=1",
    ),
    AfterValidator(check_preview_path),
    STORABLE,
]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FillField(_Settings):
    label: Text = Field(description="The field's accessible name: its label, or placeholder.")
    value: Annotated[str, Field(max_length=MAX_VALUE_LENGTH), STORABLE]


def _unset(value: object) -> bool:
    return value is None


class ScenarioStep(_Settings):
    """One thing a person does or checks; exactly one of the keys is given."""

    goto: PreviewPath | None = Field(
        default=None, exclude_if=_unset, description="Open this path on the preview."
    )
    click: Text | None = Field(
        default=None,
        exclude_if=_unset,
        description="Click the button or link with this accessible name, or else the element "
        "showing exactly this text.",
    )
    fill: FillField | None = Field(
        default=None, exclude_if=_unset, description="Type `value` into the field named `label`."
    )
    expect_text: Text | None = Field(
        default=None, exclude_if=_unset, description="The page shows this text (within 5 s)."
    )
    expect_url: PreviewPath | None = Field(
        default=None,
        exclude_if=_unset,
        description="The page is at this path (with its query, if one is given), within 5 s.",
    )

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data  # pydantic says what a step must be
        given = [key for key in STEP_KINDS if data.get(key) is not None]
        if len(given) == 1:
            return data
        others = [str(key)[:40] for key in data if key not in STEP_KINDS][:5]
        seen = f"; it has {', '.join(given)}" if given else ""
        if others:
            seen += f"; {', '.join(repr(key) for key in others)} is not a step"
        raise ValueError(f"a step has exactly one key, one of {', '.join(STEP_KINDS)}{seen}")

    @property
    def kind(self) -> str:
        return next(key for key in STEP_KINDS if getattr(self, key) is not None)


class Scenario(_Settings):
    """Steps played in order in a fresh browser context, from a `goto`; the first failing
    step ends it."""

    name: Text
    steps: list[ScenarioStep] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("steps")
    @classmethod
    def _starts_somewhere(cls, value: list[ScenarioStep]) -> list[ScenarioStep]:
        if value and value[0].goto is None:
            raise ValueError(
                'must start with a goto step, where the scenario begins: {"goto": "/"}'
            )
        return value


class WebEvalSettings(_Settings):
    """What the browser evaluation of a deployed preview checks; see the module's docstring."""

    pages: list[PreviewPath] = Field(
        default_factory=lambda: ["/"],
        max_length=MAX_PAGES,
        description="Paths opened one by one: each must load with 2xx or 3xx, without errors.",
    )
    scenarios: list[Scenario] = Field(default_factory=list, max_length=MAX_SCENARIOS)
    allow_console_errors: bool = Field(
        default=False,
        description="Report console errors and uncaught page errors without failing the step.",
    )
    allow_failed_requests: bool = Field(
        default=False,
        description="Report the preview's own requests that failed (HTTP 400 and above, or no "
        "answer) without failing the step. Requests to any other host are always blocked and "
        "reported.",
    )
    accessibility: Literal["off", "report", "fail"] = Field(
        default="off",
        description="Check each page with axe-core: report violations, or fail on any.",
    )
    judge: bool | Literal["gate"] = Field(
        default=False,
        description="An AI judge (the server's LLM_BASE_URL and LLM_MODEL) looks at the "
        "screenshots and page texts against the agent run's goal: true reports its verdict; "
        '"gate" also fails the step when it says the goal is not met.',
    )
    # At most 600: the step itself is cut at 900 s, and what was seen must still be told.
    timeout_seconds: int = Field(
        default=60, ge=5, le=600, description="For the whole evaluation, pages and scenarios."
    )

    @field_validator("judge", mode="before")
    @classmethod
    def _judge_is_said_plainly(cls, value: object) -> object:
        # One message for the one field, rather than one per member of the union.
        if value is True or value is False or value == "gate":
            return value
        raise ValueError(
            'must be false (no AI judge), true (its verdict is reported) or "gate" (a verdict '
            "that the goal is not met fails the step)"
        )

    @model_validator(mode="after")
    def _something_to_do(self) -> "WebEvalSettings":
        if not self.pages and not self.scenarios:
            raise ValueError("lists no pages and no scenarios: give at least one of them")
        return self
