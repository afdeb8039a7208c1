"""Web evaluation: a headless browser opens the deployed preview's pages and plays the
project's scenarios (`validation_settings.web_eval`), once the health check said it is up.

What the browser saw is kept as the validation's artifacts (screenshots, page texts,
findings.json) and told in the step's log; a failure hands the agent the same text: which
page or scenario step failed, the errors with their source locations, the failed requests,
and the failing page's text. Unset `web_eval`: the step is skipped, visibly. With
`web_eval.judge`, an AI judge looks at what the browser kept too (`web_judge`).
"""

import asyncio
from pathlib import Path

from codegenapp import artifacts
from codegenapp.domain.artifacts import FINDINGS, ArtifactKind, artifact_kind
from codegenapp.domain.masking import Masker
from codegenapp.domain.states import CheckName, CheckStatus, StepStatus
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator import Evaluation, Evaluator, Judgement
from codegenapp.drivers.evaluator.report import (
    findings_json,
    judge_summary,
    problems,
    render,
    summary,
)
from codegenapp.files import read_regular_file, write_private
from codegenapp.steps import StepContext, StepResult, web_judge
from codegenapp.steps.log import StepLog

NOT_CONFIGURED = "not configured: validation_settings.web_eval is not set"
NEEDS_A_HEALTHY_PREVIEW = (
    "validation_settings.web_eval needs deployment_settings.deploy_command and "
    "health_check_url: the browser opens the preview once its health check passed"
)
MAX_TEXT_ARTIFACT_BYTES = 1024 * 1024


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    settings = ctx.settings.validation_settings.web_eval
    if settings is None:
        await log.note(NOT_CONFIGURED)
        return StepResult(
            StepStatus.SKIPPED, NOT_CONFIGURED, {CheckName.WEB_EVAL: CheckStatus.SKIPPED}
        )
    deployment = ctx.settings.deployment_settings
    # The pipeline stops at the first failed step: a service and a health URL here mean this
    # attempt's health check passed.
    if ctx.state.service is None or not deployment.health_check_url:
        await log.note(NEEDS_A_HEALTHY_PREVIEW)
        return _failed(NEEDS_A_HEALTHY_PREVIEW, None)
    if ctx.evaluator is None or ctx.artifacts_root is None:
        reason = "no browser evaluator is set up on this server"
        await log.note(reason)
        return StepResult(StepStatus.FAILED, reason, infrastructure_error=True)
    unjudgeable = web_judge.gate_without_judge(ctx, settings)
    if unjudgeable is not None:  # no browser started for a step that cannot pass here
        await log.note(unjudgeable)
        return StepResult(StepStatus.FAILED, unjudgeable, infrastructure_error=True)
    base_url = await ctx.sandbox.endpoint(ctx.require_handle(), deployment.port)
    directory = await asyncio.to_thread(artifacts.fresh_dir, ctx.artifacts_root, ctx.validation_id)
    timeout = min(float(settings.timeout_seconds), ctx.remaining())
    await log.note(
        f"headless Chromium ({ctx.evaluator.name}) on port {deployment.port} ({base_url} from "
        f"here): {_plan(settings)}, for at most {timeout:g} s; it reaches nothing but the preview"
    )
    evaluation = await _evaluate(ctx.evaluator, base_url, settings, directory, timeout)
    judgement = await web_judge.judge(ctx, settings, evaluation, directory)
    found = problems(evaluation, settings) + web_judge.gate_problems(judgement, settings)
    text = render(evaluation, settings, found, judgement)
    await log.write(text)
    gate = settings.judge == "gate"
    await asyncio.to_thread(_keep, directory, evaluation, found, judgement, ctx.masker, gate)
    if found:
        return _failed(summary(found), text)
    unanswered = web_judge.gate_unanswered(judgement, settings)
    if unanswered is not None:
        return StepResult(StepStatus.FAILED, unanswered, infrastructure_error=True)
    done = f"{_plan(settings)} passed in {evaluation.duration_ms / 1000:.1f} s"
    if judgement is not None:
        done += f"; {judge_summary(judgement)}"
    return StepResult(StepStatus.PASSED, done, {CheckName.WEB_EVAL: CheckStatus.PASSED})


async def _evaluate(
    evaluator: Evaluator,
    base_url: str,
    settings: WebEvalSettings,
    directory: Path,
    timeout: float,
) -> Evaluation:
    # The evaluator returns by its timeout; this bound is for an evaluator that does not.
    async with asyncio.timeout(timeout + 30):
        return await evaluator.evaluate(base_url, settings, directory, timeout=timeout)


def _plan(settings: WebEvalSettings) -> str:
    pages, scenarios = len(settings.pages), len(settings.scenarios)
    said = [f"{pages} page{'' if pages == 1 else 's'}"] if pages else []
    if scenarios:
        said.append(f"{scenarios} scenario{'' if scenarios == 1 else 's'}")
    return " and ".join(said)


def _keep(
    directory: Path,
    evaluation: Evaluation,
    found: list[str],
    judgement: Judgement | None,
    masker: Masker,
    gate: bool,
) -> None:
    """Store the findings; mask the page texts as every stored log is masked (a page may
    print a secret it was given)."""
    findings = findings_json(evaluation, found, judgement, gate=gate)
    write_private(directory / FINDINGS, masker.mask(findings).encode())
    for name in evaluation.artifacts:
        if artifact_kind(name) is ArtifactKind.PAGE_TEXT:
            text = read_regular_file(directory / name, limit=MAX_TEXT_ARTIFACT_BYTES)
            write_private(directory / name, masker.mask(text.decode(errors="replace")).encode())


def _failed(reason: str, output: str | None) -> StepResult:
    return StepResult(
        StepStatus.FAILED,
        reason,
        {CheckName.WEB_EVAL: CheckStatus.FAILED},
        CheckName.WEB_EVAL,
        output=output,
    )
