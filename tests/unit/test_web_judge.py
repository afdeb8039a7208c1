"""What the AI judge's judgement may do to the web_eval step, and what it is shown: masked
texts, no goal no judging, and only a gating `does_not_meet` as a problem of the code."""

import time
from pathlib import Path
from typing import cast

import pytest

from codegenapp.domain.masking import Masker
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import ValidationKind
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator import (
    Evaluation,
    Judge,
    JudgeBrief,
    Judgement,
    Observations,
    PageVisit,
    Verdict,
)
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.steps import StepContext, web_judge

SECRET = "s3cr3t-value-1234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class RecordingJudge:
    name = "recording"
    model = "judge-1"

    def __init__(self, answer: Judgement) -> None:
        self.answer = answer
        self.briefs: list[JudgeBrief] = []

    async def judge(self, brief: JudgeBrief, *, timeout: float) -> Judgement:
        self.briefs.append(brief)
        return self.answer


def _ctx(judge: Judge | None, *, goal: str | None = f"Show the shop ({SECRET})") -> StepContext:
    return StepContext(
        validation_id=1,
        kind=ValidationKind.PULL_REQUEST,
        project_id=1,
        repository="repo",
        head_sha="0" * 40,
        settings=ProjectSettings(),
        forge=cast(Forge, None),
        sandbox=cast(Sandbox, None),
        secrets={"TOKEN": SECRET},
        masker=Masker.for_secrets([SECRET]),
        deadline=time.monotonic() + 600,
        judge=judge,
        goal=goal,
        plan=None,
    )


def _evaluation(directory: Path) -> Evaluation:
    (directory / "page-0.png").write_bytes(PNG)
    page = PageVisit("/", 200, 5, Observations(), f"text {SECRET}", "page-0.png", "page-0.txt")
    return Evaluation("http://127.0.0.1:9000", (page,), (), 100)


async def test_the_judge_is_shown_masked_texts_and_its_reasons_come_back_masked(
    tmp_path: Path,
) -> None:
    judge = RecordingJudge(Judgement(Verdict.DOES_NOT_MEET, (f"it shows {SECRET}",), "judge-1"))

    judgement = await web_judge.judge(
        _ctx(judge), WebEvalSettings(judge=True), _evaluation(tmp_path), tmp_path
    )

    [brief] = judge.briefs
    assert SECRET not in brief.goal
    [exhibit] = brief.exhibits
    assert (exhibit.where, exhibit.screenshot) == ("page /", PNG)
    assert SECRET not in exhibit.text
    assert judgement is not None
    assert judgement.verdict is Verdict.DOES_NOT_MEET
    assert SECRET not in judgement.reasons[0]


@pytest.mark.parametrize(
    ("judge", "goal", "why"),
    [
        (None, "Show the shop", web_judge.NOT_CONFIGURED),
        (RecordingJudge(Judgement(Verdict.MEETS)), None, web_judge.NO_GOAL),
    ],
)
async def test_without_a_judge_here_or_a_goal_to_judge_against_it_is_skipped_saying_why(
    tmp_path: Path, judge: RecordingJudge | None, goal: str | None, why: str
) -> None:
    judgement = await web_judge.judge(
        _ctx(judge, goal=goal), WebEvalSettings(judge=True), _evaluation(tmp_path), tmp_path
    )

    assert judgement is not None
    assert (judgement.verdict, judgement.no_verdict) == (None, why)
    assert judge is None or not judge.briefs


async def test_a_project_that_did_not_ask_is_not_judged(tmp_path: Path) -> None:
    judge = RecordingJudge(Judgement(Verdict.MEETS))
    settings = WebEvalSettings()
    assert await web_judge.judge(_ctx(judge), settings, _evaluation(tmp_path), tmp_path) is None
    assert not judge.briefs


def test_a_gate_on_a_server_without_a_judge_names_the_settings_to_set() -> None:
    said = web_judge.gate_without_judge(_ctx(None), WebEvalSettings(judge="gate"))
    assert said is not None
    assert "LLM_BASE_URL and LLM_MODEL" in said
    assert web_judge.gate_without_judge(_ctx(None), WebEvalSettings(judge=True)) is None


UNAVAILABLE = Judgement(None, model="m", no_verdict="judge unavailable: HTTP 503")


@pytest.mark.parametrize(
    ("judge", "judgement", "problems", "unanswered"),
    [
        ("gate", Judgement(Verdict.DOES_NOT_MEET), [web_judge.DOES_NOT_MEET], False),
        (True, Judgement(Verdict.DOES_NOT_MEET), [], False),
        ("gate", Judgement(Verdict.UNSURE), [], False),
        ("gate", Judgement(Verdict.MEETS), [], False),
        ("gate", UNAVAILABLE, [], True),
        (True, UNAVAILABLE, [], False),
        ("gate", Judgement(None, no_verdict=web_judge.NO_GOAL), [], False),
    ],
)
def test_only_a_gate_turns_a_judgement_into_a_failure(
    judge: bool | str, judgement: Judgement, problems: list[str], unanswered: bool
) -> None:
    settings = WebEvalSettings.model_validate({"judge": judge})
    assert web_judge.gate_problems(judgement, settings) == problems
    said = web_judge.gate_unanswered(judgement, settings)
    assert (said is not None) == unanswered
    if said is not None:
        assert "judge unavailable: HTTP 503" in said
