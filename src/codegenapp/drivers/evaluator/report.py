"""Whether an evaluation passes under the project's settings, and the evaluation told in words:
one text for the step's log and the agent's error context, and the findings as JSON. The AI
judge's judgement, when there is one, is told with it: its verdict in our words, its reasons
as the model wrote them (masked; the error context fences the whole text as data).

The text is bounded (a few items of each kind per page, a part of the failing page's text), so
that it fits the error context whole; the findings artifact keeps everything that was seen.
URLs on the preview read as paths ("/app.js:3:9"): an agent can find them in its code.
"""

import dataclasses
import json
from collections.abc import Iterable, Sequence

from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.evaluator import (
    Evaluation,
    Judgement,
    Observations,
    PageVisit,
    ScenarioRun,
    Verdict,
)
from codegenapp.drivers.evaluator.visual import VisualChange

SHOWN_EACH = 5  # items of one kind listed per page or scenario
SHOWN_STACK_LINES = 4
SHOWN_TEXT_LINES = 25
SHOWN_TEXT_CHARS = 1500
VERDICT_WORDS = {
    Verdict.MEETS: "meets the goal",
    Verdict.DOES_NOT_MEET: "does not meet the goal",
    Verdict.UNSURE: "unsure whether it meets the goal",
}


def problems(evaluation: Evaluation, settings: WebEvalSettings) -> list[str]:
    """Why the evaluation fails under `settings`, one sentence each, worst first; empty if it
    passes."""
    found = []
    if evaluation.timed_out:
        found.append(
            f"the evaluation did not finish within {settings.timeout_seconds} s "
            f"(it was at {evaluation.unfinished})"
        )
    for page in evaluation.pages:
        where = f"page {page.path}"
        if page.error is not None:
            found.append(f"{where} could not be opened: {page.error}")
        elif page.status is not None and page.status >= 400:
            found.append(f"{where} answered HTTP {page.status}")
        found += _observed(where, _seen_on(page), settings)
        if settings.accessibility == "fail" and page.accessibility:
            rules = ", ".join(violation.rule for violation in page.accessibility[:SHOWN_EACH])
            found.append(
                f"{where} has {_count(page.accessibility, 'accessibility violation')}: {rules}"
            )
    for run in evaluation.scenarios:
        where = f'scenario "{run.name}"'
        failed = run.failed_step
        if failed is not None:
            found.append(
                f"{where} failed at step {failed.index} ({failed.action}): expected "
                f"{failed.expected}; {failed.seen}"
            )
        found += _observed(where, run.seen, settings)
    return found


def _observed(where: str, seen: Observations, settings: WebEvalSettings) -> list[str]:
    found = []
    if not settings.allow_console_errors:
        if seen.page_errors:
            first = seen.page_errors[0]
            at = f" at {first.location}" if first.location else ""
            more = _more(seen.page_errors)
            found.append(f"{where} threw {first.message}{at}{more}")
        if seen.console_errors:
            first_console = seen.console_errors[0]
            more = _more(seen.console_errors)
            found.append(f"{where} logged a console error: {first_console.text}{more}")
    if not settings.allow_failed_requests and seen.failed_requests:
        request = seen.failed_requests[0]
        answer = f"answered {request.status} {request.reason}" if request.status else request.reason
        found.append(
            f"{where}: {request.method} {request.url} {answer}{_more(seen.failed_requests)}"
        )
    return found


def summary(found: list[str]) -> str:
    """One line for the step and the validation's reason."""
    first = found[0] if len(found[0]) <= 400 else found[0][:399] + "…"
    return first if len(found) == 1 else f"{first} (and {len(found) - 1} more problems)"


def render(
    evaluation: Evaluation,
    settings: WebEvalSettings,
    found: list[str],
    judgement: Judgement | None = None,
    *,
    plan_notes: Sequence[str] = (),
) -> str:
    """The evaluation as a person (or an agent) reads it; the judge's part near the top, where
    a condensed log keeps it, and so are `plan_notes` (why some of the plan's acceptance
    checks were not run)."""
    verdict = "passed" if not found else f"failed: {_count(found, 'problem')}"
    lines = [f"web_eval {verdict} (in {evaluation.duration_ms / 1000:.1f} s)"]
    lines += [f"  {number}. {problem}" for number, problem in enumerate(found, 1)]
    if plan_notes:
        lines.append("Not run from the plan:")
        lines += [f"  - {note}" for note in plan_notes]
    if judgement is not None:
        lines.append(judge_words(judgement, settings))
        lines += [f"  - {reason}" for reason in judgement.reasons]
    if evaluation.pages:
        lines.append("Pages:")
    for page in evaluation.pages:
        lines += _page_lines(page)
    if evaluation.scenarios:
        lines.append("Scenarios:")
    for run in evaluation.scenarios:
        lines += _scenario_lines(run)
    failing = _failing_text(evaluation, found)
    if failing:
        where, text = failing
        lines.append(f"What {where} showed (its accessibility tree, truncated):")
        lines += [f"  {line}" for line in _bounded(text)]
    return "\n".join(lines) + "\n"


def findings_json(
    evaluation: Evaluation,
    found: list[str],
    judgement: Judgement | None = None,
    *,
    gate: bool = False,
    from_plan: int | None = None,
    plan_notes: Sequence[str] = (),
    visual_changes: Sequence[VisualChange] | None = None,
) -> str:
    """Everything that was seen, and the verdict, as the findings artifact holds it; `judge`
    is null when the project did not ask for the AI judge. `from_plan`: the index of the
    first scenario from the plan's acceptance checks (each scenario says `from_plan`); None
    when the plan listed none (then `plan` is null). `visual_changes`: the pages compared
    with the base branch's (reported, never part of the verdict); null when none could be."""
    seen = dataclasses.asdict(evaluation)
    for index, run in enumerate(seen["scenarios"]):
        run["from_plan"] = from_plan is not None and index >= from_plan
    plan = None if from_plan is None else {"first_scenario": from_plan, "notes": list(plan_notes)}
    body = {
        "passed": not found,
        "problems": found,
        "judge": _judge_json(judgement, gate=gate) if judgement is not None else None,
        "plan": plan,
        "visual_changes": (
            None if visual_changes is None else [dataclasses.asdict(c) for c in visual_changes]
        ),
        "evaluation": seen,
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def judge_words(judgement: Judgement, settings: WebEvalSettings) -> str:
    """One line in our words, never the model's: "AI judge (gpt-4o): does not meet the goal
    (reported only)", or why there is no verdict."""
    model = f" ({judgement.model})" if judgement.model else ""
    if judgement.verdict is None:
        return f"AI judge{model}: {judgement.no_verdict}"
    weight = "a gate" if settings.judge == "gate" else "reported only"
    return f"AI judge{model}: {VERDICT_WORDS[judgement.verdict]} ({weight})"


def judge_summary(judgement: Judgement) -> str:
    """The verdict in a few words of ours, for the step's one-line summary."""
    if judgement.verdict is None:
        return "AI judge: no verdict"
    return f"AI judge: {VERDICT_WORDS[judgement.verdict]}"


def _judge_json(judgement: Judgement, *, gate: bool) -> dict[str, object]:
    return {
        "gate": gate,  # false: reported only
        "verdict": judgement.verdict.value if judgement.verdict else None,
        "reasons": list(judgement.reasons),
        "model": judgement.model or None,
        "no_verdict": judgement.no_verdict,
    }


def _page_lines(page: PageVisit) -> list[str]:
    if page.error is not None:
        head = f"  GET {page.path}: not opened ({page.error})"
    else:
        status = f"HTTP {page.status}" if page.status is not None else "no HTTP answer"
        head = f"  GET {page.path}: {status}, loaded in {page.load_ms} ms"
    lines = [head, *_seen_lines(_seen_on(page))]
    for violation in page.accessibility[:SHOWN_EACH]:
        targets = ", ".join(violation.targets[:2])
        lines.append(f"    accessibility: {violation.rule} ({violation.impact}): {violation.help}")
        if targets:
            lines.append(f"      at {targets}")
    if len(page.accessibility) > SHOWN_EACH:
        lines.append(f"    … {len(page.accessibility) - SHOWN_EACH} more accessibility violations")
    return lines


def _seen_on(page: PageVisit) -> Observations:
    """What was seen on `page`, but its own answer: that is its status, not a failed request."""
    requests = tuple(item for item in page.seen.failed_requests if item.url != page.path)
    return dataclasses.replace(page.seen, failed_requests=requests)


def _scenario_lines(run: ScenarioRun) -> list[str]:
    failed = run.failed_step
    state = "passed" if failed is None else f"failed at step {failed.index}"
    lines = [f'  "{run.name}": {state}']
    for step in run.steps:
        if step.passed:
            lines.append(f"    {step.index}. {step.action}: {step.seen}")
        else:
            lines.append(f"    {step.index}. {step.action}: FAILED")
            lines.append(f"         expected: {step.expected}")
            lines.append(f"         seen: {step.seen}")
    return lines + _seen_lines(run.seen)


def _seen_lines(seen: Observations) -> list[str]:
    lines = []
    for error in seen.page_errors[:SHOWN_EACH]:
        lines.append(f"    uncaught {error.message}")
        frames = [line.strip() for line in error.stack.splitlines()[1:] if line.strip()]
        if not frames and error.location:
            frames = [f"at {error.location}"]
        lines += [f"        {frame}" for frame in frames[:SHOWN_STACK_LINES]]
    for console in seen.console_errors[:SHOWN_EACH]:
        at = f" (at {console.location})" if console.location else ""
        lines.append(f"    console error: {console.text}{at}")
    for request in seen.failed_requests[:SHOWN_EACH]:
        answer = f"{request.status} {request.reason}" if request.status else request.reason
        lines.append(f"    failed request: {request.method} {request.url} -> {answer}")
    for blocked in seen.blocked_requests[:SHOWN_EACH]:
        lines.append(
            f"    blocked, outside the preview (never sent): {blocked.resource} {blocked.url}"
        )
    for items, kind in (
        (seen.page_errors, "uncaught errors"),
        (seen.console_errors, "console errors"),
        (seen.failed_requests, "failed requests"),
        (seen.blocked_requests, "blocked requests"),
    ):
        if len(items) > SHOWN_EACH:
            lines.append(f"    … {len(items) - SHOWN_EACH} more {kind} (all in findings.json)")
    return lines


def _failing_text(evaluation: Evaluation, found: list[str]) -> tuple[str, str] | None:
    """Where the first problem was seen and the text of that page, if there is a problem."""
    if not found:
        return None
    for page in evaluation.pages:
        if found[0].startswith(f"page {page.path} ") or found[0].startswith(f"page {page.path}:"):
            return f"page {page.path}", page.text
    for run in evaluation.scenarios:
        if found[0].startswith(f'scenario "{run.name}"'):
            return f'scenario "{run.name}" where it ended', run.text
    return None


def _bounded(text: str) -> list[str]:
    lines = text[:SHOWN_TEXT_CHARS].splitlines()[:SHOWN_TEXT_LINES]
    if len(text) > SHOWN_TEXT_CHARS or len(text.splitlines()) > SHOWN_TEXT_LINES:
        lines.append("… (the whole text is in the page's text artifact)")
    return lines


def _count(items: Iterable[object], noun: str) -> str:
    number = len(list(items))
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _more(items: tuple[object, ...]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""
