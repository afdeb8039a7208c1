"""The AI judge's part of the web evaluation (`web_eval.judge`): what it is shown, and what its
judgement may do to the step.

The judge sees the agent run's goal, the plan a person confirmed, the pages' and scenarios'
texts and the first few screenshots, all masked first (they leave for another service). Its
answer is data: masked before it is stored, told in the step's log (which reaches an agent
only fenced), and never able to set a status by itself. Only this module decides, in our
words: with `judge: "gate"`, a verdict of `does_not_meet` is a problem of the code, and no
verdict at all (no judge here, or it did not answer) is ours, an infrastructure error. With
`judge: true` the judgement is reported only. A validation without an agent run has no goal:
the judge is skipped, saying so, gate or not (docs/adr/0016-the-ai-judge.md).
"""

import asyncio
import dataclasses
from pathlib import Path

from codegenapp.domain.masking import Masker
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator import (
    JUDGE_SCREENSHOT_BYTES,
    JUDGE_SCREENSHOTS,
    Evaluation,
    Exhibit,
    JudgeBrief,
    Judgement,
    Verdict,
)
from codegenapp.files import read_regular_file
from codegenapp.steps import StepContext

JUDGE_TIMEOUT_S = 120.0
NOT_CONFIGURED = "judge skipped: LLM_BASE_URL/LLM_MODEL not set on this server"
NO_GOAL = (
    "judge skipped: this validation has no agent run, so there is no goal to judge against "
    "(a pull request opened elsewhere, or a baseline of the base branch)"
)
NOTHING_SEEN = "judge skipped: the browser kept no page text or screenshot to show it"
DOES_NOT_MEET = (
    'the AI judge says the preview does not meet the goal (judge: "gate"); its reasons are '
    "in the log"
)


def gate_without_judge(ctx: StepContext, settings: WebEvalSettings) -> str | None:
    """Why the step cannot pass on this server whatever the browser sees (a gating judge, and
    no judge configured here), or None."""
    if settings.judge != "gate" or ctx.judge is not None:
        return None
    return (
        'web_eval.judge is "gate" but this server has no AI judge: set LLM_BASE_URL and '
        "LLM_MODEL (and LLM_API_KEY if the service needs one)"
    )


async def judge(
    ctx: StepContext, settings: WebEvalSettings, evaluation: Evaluation, directory: Path
) -> Judgement | None:
    """The judge's judgement of what the browser kept (masked); None if not asked for."""
    if settings.judge is False:
        return None
    if ctx.judge is None:
        return Judgement(None, no_verdict=NOT_CONFIGURED)
    if ctx.goal is None:
        return Judgement(None, model=ctx.judge.model, no_verdict=NO_GOAL)
    exhibits = await asyncio.to_thread(_exhibits, evaluation, directory, ctx.masker)
    if not exhibits:
        return Judgement(None, model=ctx.judge.model, no_verdict=NOTHING_SEEN)
    plan = ctx.masker.mask(ctx.plan) if ctx.plan else None
    brief = JudgeBrief(ctx.masker.mask(ctx.goal), plan, exhibits)
    timeout = max(5.0, min(JUDGE_TIMEOUT_S, ctx.remaining()))
    judgement = await ctx.judge.judge(brief, timeout=timeout)
    return _masked(judgement, ctx.masker)


def gate_problems(judgement: Judgement | None, settings: WebEvalSettings) -> list[str]:
    """The judgement as a problem of the code: only a gating judge's `does_not_meet`."""
    gating = judgement is not None and settings.judge == "gate"
    if gating and judgement is not None and judgement.verdict is Verdict.DOES_NOT_MEET:
        return [DOES_NOT_MEET]
    return []


def gate_unanswered(judgement: Judgement | None, settings: WebEvalSettings) -> str | None:
    """Why a gating judge left the step without a verdict it needs (ours to fix), or None.
    A validation without a goal is not judged, gate or not."""
    if judgement is None or settings.judge != "gate" or judgement.verdict is not None:
        return None
    if judgement.no_verdict == NO_GOAL:
        return None
    return f'web_eval.judge is "gate" and the AI judge gave no verdict ({judgement.no_verdict})'


def _exhibits(evaluation: Evaluation, directory: Path, masker: Masker) -> tuple[Exhibit, ...]:
    """Each page, then where each scenario ended, with the first JUDGE_SCREENSHOTS screenshots
    that could be read (blocking: run it in a thread)."""
    seen = [(f"page {page.path}", page.text, page.screenshot) for page in evaluation.pages]
    seen += [
        (f'scenario "{run.name}" where it ended', run.text, run.screenshot)
        for run in evaluation.scenarios
    ]
    exhibits = []
    shots = 0
    for where, text, name in seen:
        image = _screenshot(directory, name) if name and shots < JUDGE_SCREENSHOTS else None
        shots += image is not None
        if text or image is not None:
            exhibits.append(Exhibit(where, masker.mask(text), image))
    return tuple(exhibits)


def _screenshot(directory: Path, name: str) -> bytes | None:
    try:
        return read_regular_file(directory / name, limit=JUDGE_SCREENSHOT_BYTES)
    except OSError:  # gone, or not a regular file, or too large
        return None


def _masked(judgement: Judgement, masker: Masker) -> Judgement:
    return dataclasses.replace(
        judgement,
        reasons=tuple(masker.mask(reason) for reason in judgement.reasons),
        no_verdict=masker.mask(judgement.no_verdict) if judgement.no_verdict else None,
    )
