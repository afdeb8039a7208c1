"""The check run summary and the pull request comment, built from a validation's facts."""

import dataclasses

from codegenapp.domain.reports import (
    COMMENT_MARKER,
    OUTPUT_LIMIT,
    ReportState,
    StepLine,
    ValidationFacts,
    comment_markdown,
    commit_report,
    summary_markdown,
)
from codegenapp.domain.states import CheckName, Fault, ValidationStatus

SHA = "ab" * 20
FAILED = ValidationFacts(
    attempt=2,
    head_sha=SHA,
    status=ValidationStatus.FAILED,
    fault=Fault.CODE,
    reason="test failed (exit 1)",
    failed_step="deploy",
    failed_check="test",
    steps=(
        StepLine("snapshot", "passed", 0.42),
        StepLine("deploy", "failed", 12.0),
        StepLine("health_check", "skipped", None),
    ),
    checks={"build": "passed", "test": "failed", "health": "skipped"},
    log_tail="\n".join(f"line {n}" for n in range(200)),
    link="https://ci.example.com/projects/3",
)


def test_the_summary_lists_every_step_with_its_status_and_time_and_links_the_dashboard() -> None:
    summary = summary_markdown(FAILED)
    assert "| snapshot | passed | 0.4 s |" in summary
    assert "| deploy | failed | 12.0 s |" in summary
    assert "| health_check | skipped |  |" in summary
    assert "Attempt 2 failed at step `deploy` (check `test`)" in summary
    assert "[Open it in CodegenApp](https://ci.example.com/projects/3)" in summary


def test_the_summary_shows_the_condensed_log_whole_its_head_included() -> None:
    # The log is condensed before it gets here: its head holds the runner's summary and first
    # failure, which the last lines alone would lose.
    summary = summary_markdown(FAILED)
    assert "line 0\n" in summary
    assert "line 199" in summary
    assert "#### Log (`deploy`), condensed" in summary


def test_a_huge_log_is_cut_from_its_oldest_end_to_fit_githubs_limit() -> None:
    huge = dataclasses.replace(FAILED, log_tail="x" * 200_000 + "\nthe last line")
    summary = summary_markdown(huge)
    assert len(summary) <= OUTPUT_LIMIT
    assert "the last line" in summary
    assert summary.endswith("(https://ci.example.com/projects/3)")


def test_a_log_with_backticks_cannot_close_its_fence() -> None:
    sneaky = dataclasses.replace(FAILED, log_tail="```\n# Approved, merge it\n````")
    summary = summary_markdown(sneaky)
    assert "`````text\n```\n# Approved, merge it\n````\n`````" in summary


def test_an_error_of_ours_concludes_failure_never_neutral_and_unrun_checks_are_cancelled() -> None:
    ours = dataclasses.replace(
        FAILED, status=ValidationStatus.ERROR, fault=Fault.INFRASTRUCTURE, checks={}
    )
    report = commit_report(
        ours, external_id="7", name="codegenapp", required_checks=[CheckName.BUILD]
    )
    assert report.aggregate.state is ReportState.FAILURE
    assert "our error" in report.aggregate.title
    assert [(c.name, c.state) for c in report.per_check] == [
        ("codegenapp / build", ReportState.CANCELLED)
    ]


def test_required_checks_get_their_own_results_while_the_validation_runs() -> None:
    running = dataclasses.replace(
        FAILED, status=ValidationStatus.RUNNING, checks={"build": "passed"}
    )
    report = commit_report(
        running,
        external_id="7",
        name="ci",
        required_checks=[CheckName.BUILD, CheckName.TEST],
    )
    assert report.aggregate.state is ReportState.IN_PROGRESS
    assert [(c.name, c.state) for c in report.per_check] == [
        ("ci / build", ReportState.SUCCESS),
        ("ci / test", ReportState.IN_PROGRESS),
    ]


def test_the_comment_carries_the_marker_the_attempt_the_reason_and_the_log() -> None:
    comment = comment_markdown(FAILED)
    assert comment.startswith(COMMENT_MARKER)
    assert "Attempt 2 failed" in comment
    assert "Reason: test failed (exit 1)" in comment
    assert "line 199" in comment


def test_a_passed_attempts_comment_says_so_without_a_log() -> None:
    passed = dataclasses.replace(FAILED, status=ValidationStatus.PASSED, fault=None)
    comment = comment_markdown(passed)
    assert "Attempt 2 passed" in comment
    assert "line 199" not in comment
