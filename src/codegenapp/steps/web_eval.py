"""Web evaluation: a headless browser opens the deployed preview's pages and plays the
project's scenarios (`validation_settings.web_eval`), once the health check said it is up.

What the browser saw is kept as the validation's artifacts (screenshots, page texts,
findings.json, and when the step failed Playwright traces: `web_traces`) and told in the step's
log; a failure hands the agent the same text: which page or scenario step failed, the errors
with their source locations, the failed requests, and the failing page's text. Unset
`web_eval`: the step is skipped, visibly. With `web_eval.judge`, an AI judge looks at what the
browser kept too (`web_judge`). The acceptance checks of the run's confirmed plan are played
after the project's scenarios, as any of them (`domain/acceptance.py`); they need `web_eval` to
run. A pull request's pages are compared with the base branch's too (`web_visual`): a large
change on a page the goal does not mention is reported, never failed.
"""

import asyncio
from pathlib import Path

from codegenapp import artifacts
from codegenapp.domain import acceptance
from codegenapp.domain.acceptance import AcceptanceChecks
from codegenapp.domain.artifacts import FINDINGS, ArtifactKind, artifact_kind
from codegenapp.domain.masking import Masker
from codegenapp.domain.states import CheckName, CheckStatus, StepStatus
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator import Evaluation, Evaluator
from codegenapp.drivers.evaluator.report import (
    findings_json,
    judge_summary,
    problems,
    render,
    summary,
)
from codegenapp.files import read_regular_file, write_private
from codegenapp.steps import StepContext, StepResult, web_judge, web_traces, web_visual
from codegenapp.steps.log import StepLog

NOT_CONFIGURED = "not configured: validation_settings.web_eval is not set"
NEEDS_A_HEALTHY_PREVIEW = (
    "validation_settings.web_eval needs deployment_settings.deploy_command and "
    "health_check_url: the browser opens the preview once its health check passed"
)
MAX_TEXT_ARTIFACT_BYTES = 1024 * 1024


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    settings = ctx.settings.validation_settings.web_eval
    checks = acceptance.acceptance_checks(ctx.plan)
    if settings is None:
        await log.note(NOT_CONFIGURED)
        if checks.listed:
            await log.note(acceptance.NEEDS_WEB_EVAL)
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
    from_plan = len(settings.scenarios) if checks.listed else None
    settings = acceptance.with_checks(settings, checks)
    base_url = await ctx.sandbox.endpoint(ctx.require_handle(), deployment.port)
    directory = await asyncio.to_thread(artifacts.fresh_dir, ctx.artifacts_root, ctx.validation_id)
    timeout = min(float(settings.timeout_seconds), ctx.remaining())
    await log.note(
        f"headless Chromium ({ctx.evaluator.name}) on port {deployment.port} ({base_url} from "
        f"here): {_plan(settings, checks)}, for at most {timeout:g} s; it reaches nothing but "
        "the preview"
    )
    evaluation = await _evaluate(ctx.evaluator, base_url, settings, directory, timeout)
    judgement = await web_judge.judge(ctx, settings, evaluation, directory)
    found = problems(evaluation, settings) + web_judge.gate_problems(judgement, settings)
    unanswered = web_judge.gate_unanswered(judgement, settings)
    failed = bool(found) or unanswered is not None
    evaluation = await web_traces.settle(directory, evaluation, log, keep=failed)
    text = render(evaluation, settings, found, judgement, plan_notes=checks.notes)
    await log.write(text)
    visual = await web_visual.compare_pages(ctx, evaluation, log)  # reported, never failed
    findings = findings_json(
        evaluation,
        found,
        judgement,
        gate=settings.judge == "gate",
        from_plan=from_plan,
        plan_notes=checks.notes,
        visual_changes=visual,
    )
    await asyncio.to_thread(_keep, directory, evaluation, findings, ctx.masker)
    if found:
        return _failed(summary(found), text)
    if unanswered is not None:
        return StepResult(StepStatus.FAILED, unanswered, infrastructure_error=True)
    done = f"{_plan(settings, checks)} passed in {evaluation.duration_ms / 1000:.1f} s"
    if judgement is not None:
        done += f"; {judge_summary(judgement)}"
    if checks.notes:
        done += "; some of the plan's acceptance checks were not run (see the log)"
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


def _plan(settings: WebEvalSettings, checks: AcceptanceChecks) -> str:
    """What is evaluated: "1 page and 3 scenarios (2 from the plan)"."""
    pages, scenarios = len(settings.pages), len(settings.scenarios)
    said = [f"{pages} page{'' if pages == 1 else 's'}"] if pages else []
    if scenarios:
        said.append(f"{scenarios} scenario{'' if scenarios == 1 else 's'}")
    planned = f" ({len(checks.scenarios)} {acceptance.LABEL})" if checks.scenarios else ""
    return " and ".join(said) + planned


def _keep(directory: Path, evaluation: Evaluation, findings: str, masker: Masker) -> None:
    """Store the findings; mask the page texts as every stored log is masked (a page may
    print a secret it was given)."""
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
