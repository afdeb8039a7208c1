"""What a validation tells the forge: its check runs (or commit statuses) and the one pull
request comment, built here as plain values and markdown so every forge shows the same thing.

An error of ours concludes `failure`, never `neutral`: GitHub counts `neutral` (and `skipped`)
as passing for a required check, so a sandbox that broke would let an unvalidated change
through branch protection. A check that never ran concludes `cancelled` for the same reason.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from codegenapp.domain.states import CheckName, CheckStatus, Fault, ValidationStatus

OUTPUT_LIMIT = 65_535
"""GitHub refuses a check run's `output.summary` (and a comment's body) beyond this (422)."""
REASON_CHARS = 2_000
COMMENT_MARKER = "<!-- codegenapp:pr-report -->"
"""Hidden in the pull request's one report comment: how a later attempt finds it again."""
PLAN_NOTE_MARKER = "<!-- codegenapp:plan-contract -->"
"""Hidden in the pull request's plan note: whether it keeps to the plan a person confirmed."""
PLAN_NOTE_PATHS = 30
"""The plan note names at most this many of the paths the plan did not."""


class ReportState(StrEnum):
    """A check run's status and conclusion in one: the first two are unfinished."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self not in (ReportState.QUEUED, ReportState.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One check on a commit: a check run named `name`, or a commit status with that context."""

    name: str
    state: ReportState
    title: str  # one line: the check run's output title, the commit status's description
    summary: str  # markdown, at most OUTPUT_LIMIT characters (check runs only)
    details_url: str | None = None


@dataclass(frozen=True, slots=True)
class CommitReport:
    """Everything one validation shows on its commit: the `aggregate` check and one per
    required check. `external_id` (the validation's id) is how a forge finds its check runs
    again: nothing about them is kept on our side."""

    external_id: str
    aggregate: CheckReport
    per_check: tuple[CheckReport, ...] = ()

    @property
    def checks(self) -> tuple[CheckReport, ...]:
        return (self.aggregate, *self.per_check)


@dataclass(frozen=True, slots=True)
class StepLine:
    name: str
    status: str
    seconds: float | None  # None: it never started, or has not finished


@dataclass(frozen=True, slots=True)
class ValidationFacts:
    """What the report says, read from one validation (its log tail masked as stored)."""

    attempt: int
    head_sha: str
    status: ValidationStatus
    fault: Fault | None
    reason: str
    failed_step: str | None
    failed_check: str | None
    steps: tuple[StepLine, ...]
    checks: Mapping[str, str]
    log_tail: str = ""
    link: str | None = None  # the dashboard's page for it, when the server has a public URL


def overall_state(status: ValidationStatus) -> ReportState:
    return {
        ValidationStatus.QUEUED: ReportState.QUEUED,
        ValidationStatus.RUNNING: ReportState.IN_PROGRESS,
        ValidationStatus.PASSED: ReportState.SUCCESS,
        ValidationStatus.CANCELLED: ReportState.CANCELLED,
    }.get(status, ReportState.FAILURE)


def commit_report(
    facts: ValidationFacts,
    *,
    external_id: str,
    name: str,
    required_checks: Sequence[CheckName],
) -> CommitReport:
    """The aggregate check `name` and one `name / <check>` per required check."""
    overall = overall_state(facts.status)
    aggregate = CheckReport(name, overall, headline(facts), summary_markdown(facts), facts.link)
    per_check = tuple(
        _check_report(facts, f"{name} / {check.value}", check, overall) for check in required_checks
    )
    return CommitReport(external_id, aggregate, per_check)


def _check_report(
    facts: ValidationFacts, name: str, check: CheckName, overall: ReportState
) -> CheckReport:
    result = facts.checks.get(check.value)
    if result == CheckStatus.PASSED:
        state, title = ReportState.SUCCESS, f"{check.value} passed"
    elif result == CheckStatus.FAILED:
        state, title = ReportState.FAILURE, f"{check.value} failed"
    elif not overall.is_final:
        state, title = overall, f"{check.value}: waiting for its step"
    else:
        state, title = ReportState.CANCELLED, f"{check.value} did not run"
    summary = f"{title} (attempt {facts.attempt}, {facts.head_sha[:12]})."
    return CheckReport(name, state, title, summary, facts.link)


def headline(facts: ValidationFacts) -> str:
    """One line for a title or a commit status's description."""
    attempt = f"Attempt {facts.attempt}"
    if facts.status is ValidationStatus.QUEUED:
        return f"{attempt} queued"
    if facts.status is ValidationStatus.RUNNING:
        running = next((s.name for s in facts.steps if s.status == "running"), None)
        return f"{attempt} running" + (f": {running}" if running else "")
    if facts.status is ValidationStatus.PASSED:
        return f"{attempt} passed"
    if facts.status is ValidationStatus.CANCELLED:
        return f"{attempt} cancelled: {_one_line(facts.reason)}"
    where = _where(facts)
    if facts.status is ValidationStatus.ERROR and facts.fault is not Fault.SETUP:
        return f"{attempt} could not run (our error){where}: {_one_line(facts.reason)}"
    return f"{attempt} failed{where}: {_one_line(facts.reason)}"


def summary_markdown(facts: ValidationFacts) -> str:
    """The check run's summary: the verdict, the steps with their status and time, the failed
    step's log tail and the dashboard link; never more than `OUTPUT_LIMIT` characters (the log
    tail gives way first, from its oldest lines)."""
    head = [f"**{headline(facts)}** on `{facts.head_sha[:12]}`", "", *_step_table(facts.steps)]
    if facts.reason and facts.status.is_final and facts.status is not ValidationStatus.PASSED:
        head += ["", f"Reason: {_bounded(facts.reason)}"]
    foot = [f"[Open it in CodegenApp]({facts.link})"] if facts.link else []
    return _with_log(head, facts, foot)


def comment_markdown(facts: ValidationFacts) -> str:
    """The pull request's report comment (marker first): what failed and why, or that the
    latest attempt passed. Bounded like `summary_markdown`."""
    head = [COMMENT_MARKER, f"### CodegenApp: {headline(facts)}", ""]
    if facts.status is ValidationStatus.PASSED:
        head.append(f"Commit `{facts.head_sha[:12]}` passed every step.")
    else:
        head += [
            f"Commit `{facts.head_sha[:12]}`{_where(facts)}.",
            "",
            f"Reason: {_bounded(facts.reason)}",
        ]
    foot = [f"[Open it in CodegenApp]({facts.link})"] if facts.link else []
    return _with_log(head, facts, foot)


def _with_log(head: list[str], facts: ValidationFacts, foot: list[str]) -> str:
    before, after = "\n".join(head), ("\n\n" + "\n".join(foot) if foot else "")
    # Condensed already (error_context.condense_log): the runner's summary and first failure
    # are at its head, so it is shown whole rather than by its last lines.
    tail = facts.log_tail.strip("\n")
    if not tail or facts.status is ValidationStatus.PASSED:
        return _cut(before + after)
    fence = fence_for(tail)
    step = f" (`{facts.failed_step}`)" if facts.failed_step else ""
    frame = f"\n\n#### Log{step}, condensed\n{fence}text\n", f"\n{fence}"
    room = OUTPUT_LIMIT - len(before) - len(after) - sum(map(len, frame)) - 1
    if room <= 0:
        return _cut(before + after)
    if len(tail) > room:
        tail = "…" + tail[-(room - 1) :]
    return before + frame[0] + tail + frame[1] + after


def fence_for(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the log cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _step_table(steps: Sequence[StepLine]) -> list[str]:
    if not steps:
        return []
    rows = [
        f"| {s.name} | {s.status} | {'' if s.seconds is None else f'{s.seconds:.1f} s'} |"
        for s in steps
    ]
    return ["| Step | Status | Time |", "| --- | --- | --- |", *rows]


def _where(facts: ValidationFacts) -> str:
    step = f" at step `{facts.failed_step}`" if facts.failed_step else ""
    check = f" (check `{facts.failed_check}`)" if facts.failed_check else ""
    return step + check


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 120 else line[:119] + "…"


def _bounded(text: str) -> str:
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def _cut(text: str) -> str:
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 1] + "…"


def plan_note_markdown(
    *, head_sha: str, unnamed: Sequence[str], changed: int, strays: bool, link: str | None
) -> str:
    """The pull request's plan note (marker first): which changed files the confirmed plan did
    not name, or that the latest head keeps to it again. Paths are the agent's text: each is a
    code span it cannot close."""
    head = [PLAN_NOTE_MARKER]
    if strays:
        head += [
            "### CodegenApp: this pull request strays from its confirmed plan",
            "",
            f"At `{head_sha[:12]}`, {len(unnamed)} of the {changed} changed files are not "
            "named by the plan a person confirmed:",
            "",
            *(f"- {_code(path)}" for path in unnamed[:PLAN_NOTE_PATHS]),
        ]
        if len(unnamed) > PLAN_NOTE_PATHS:
            head.append(f"- … and {len(unnamed) - PLAN_NOTE_PATHS} more")
    else:
        head += [
            "### CodegenApp: this pull request keeps to its confirmed plan again",
            "",
            f"At `{head_sha[:12]}`, the changed files are those the plan named "
            f"({len(unnamed)} of {changed} not named).",
        ]
    foot = [f"[Open it in CodegenApp]({link})"] if link else []
    return _cut("\n".join(head) + ("\n\n" + "\n".join(foot) if foot else ""))


def _code(text: str) -> str:
    """`text` as one inline code span, whatever backticks it holds."""
    one_line = " ".join(text.split()) or " "
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{ticks}{pad}{one_line}{pad}{ticks}"
