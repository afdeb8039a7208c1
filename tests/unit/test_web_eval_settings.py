"""`validation_settings.web_eval`: the issue's example as written, and refusals that name the
field and say what is accepted."""

import pytest
from pydantic import ValidationError

from codegenapp.domain.project_settings import ProjectSettings, ValidationSettings
from codegenapp.domain.web_eval_settings import WebEvalSettings

EXAMPLE = {
    "pages": ["/", "/cart"],
    "scenarios": [
        {
            "name": "Add to cart",
            "steps": [
                {"goto": "/"},
                {"click": "Add to cart"},
                {"fill": {"label": "Email", "value": "a@example.com"}},
                {"expect_text": "1 item"},
                {"expect_url": "/cart?step=1"},
            ],
        }
    ],
    "allow_console_errors": False,
    "allow_failed_requests": False,
    "accessibility": "report",
    "judge": False,
    "timeout_seconds": 60,
}


def _refusal(web_eval: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        ValidationSettings.model_validate({"web_eval": web_eval})
    return {
        ".".join(map(str, ("validation_settings", *error["loc"]))): error["msg"]
        for error in refused.value.errors()
    }


def test_the_issues_example_is_accepted_and_reads_back_as_written() -> None:
    settings = ValidationSettings.model_validate({"web_eval": EXAMPLE})
    assert settings.web_eval is not None
    assert [step.kind for step in settings.web_eval.scenarios[0].steps] == [
        "goto",
        "click",
        "fill",
        "expect_text",
        "expect_url",
    ]
    # Steps read back with their one key: the unset ones are not written as nulls.
    assert settings.model_dump(mode="json")["web_eval"] == EXAMPLE


def test_without_web_eval_the_stored_settings_and_their_digest_are_what_they_were() -> None:
    plain = ProjectSettings()
    assert "web_eval" not in plain.model_dump(mode="json")["validation_settings"]
    assert "web_eval" not in plain.validation_settings.model_dump_json()
    evaluated = ProjectSettings.model_validate({"validation_settings": {"web_eval": {}}})
    assert evaluated.digest() != plain.digest()


def test_an_empty_web_eval_opens_the_front_page() -> None:
    assert WebEvalSettings().pages == ["/"]


@pytest.mark.parametrize(
    ("web_eval", "field", "words"),
    [
        (
            {"scenarios": [{"name": "x", "steps": [{"goto": "/"}, {"click": "a", "goto": "/"}]}]},
            "validation_settings.web_eval.scenarios.0.steps.1",
            "a step has exactly one key, one of goto, click, fill, expect_text, expect_url; it "
            "has goto, click",
        ),
        (
            {"scenarios": [{"name": "x", "steps": [{"goto": "/"}, {"hover": "Menu"}]}]},
            "validation_settings.web_eval.scenarios.0.steps.1",
            "'hover' is not a step",
        ),
        (
            {"scenarios": [{"name": "x", "steps": [{"goto": "/"}, {}]}]},
            "validation_settings.web_eval.scenarios.0.steps.1",
            "a step has exactly one key",
        ),
        (
            {"scenarios": [{"name": "x", "steps": [{"click": "Buy"}]}]},
            "validation_settings.web_eval.scenarios.0.steps",
            "must start with a goto step",
        ),
        (
            {"scenarios": [{"name": "x", "steps": []}]},
            "validation_settings.web_eval.scenarios.0.steps",
            "at least 1 item",
        ),
        (
            {"scenarios": [{"name": "x", "steps": [{"goto": "/"}, {"fill": {"label": "E"}}]}]},
            "validation_settings.web_eval.scenarios.0.steps.1.fill.value",
            "Field required",
        ),
        (
            {"pages": ["/", "//evil.example/"]},
            "validation_settings.web_eval.pages.1",
            "starting with a single '/'",
        ),
        ({"pages": ["/\\evil.example"]}, "validation_settings.web_eval.pages.0", "backslashes"),
        ({"pages": ["https://example.com/"]}, "validation_settings.web_eval.pages.0", "path"),
        ({"pages": ["/a b"]}, "validation_settings.web_eval.pages.0", "white space"),
        ({"pages": ["/\x00"]}, "validation_settings.web_eval.pages.0", "path"),
        ({"pages": ["/"] * 21}, "validation_settings.web_eval.pages", "at most 20 items"),
        (
            {"scenarios": [{"name": "x", "steps": [{"goto": "/"}, {"expect_url": "cart"}]}]},
            "validation_settings.web_eval.scenarios.0.steps.1.expect_url",
            "starting with a single '/'",
        ),
        (
            {"scenarios": [{"name": "x", "steps": [{"goto": "/"}, {"click": "a" * 501}]}]},
            "validation_settings.web_eval.scenarios.0.steps.1.click",
            "at most 500 characters",
        ),
        (
            {"scenarios": [{"name": "a\x00b", "steps": [{"goto": "/"}]}]},
            "validation_settings.web_eval.scenarios.0.name",
            "must not contain NUL characters",
        ),
        ({"accessibility": "full"}, "validation_settings.web_eval.accessibility", "'report'"),
        ({"judge": "always"}, "validation_settings.web_eval.judge", 'or "gate"'),
        ({"judge": 1}, "validation_settings.web_eval.judge", "must be false"),
        ({"timeout_seconds": 1}, "validation_settings.web_eval.timeout_seconds", "equal to 5"),
        ({"timeout_seconds": 601}, "validation_settings.web_eval.timeout_seconds", "600"),
        ({"pages": [], "scenarios": []}, "validation_settings.web_eval", "no pages and no"),
        ({"page": ["/"]}, "validation_settings.web_eval.page", "Extra inputs"),
    ],
)
def test_a_bad_web_eval_setting_is_refused_naming_the_field(
    web_eval: object, field: str, words: str
) -> None:
    errors = _refusal(web_eval)
    assert field in errors, errors
    assert words in errors[field]


@pytest.mark.parametrize("judge", [True, "gate"])
def test_the_ai_judge_may_be_asked_for_whether_or_not_this_server_has_one(
    judge: object,
) -> None:
    settings = ValidationSettings.model_validate({"web_eval": {"judge": judge}})
    assert settings.web_eval is not None
    assert settings.web_eval.judge == judge
