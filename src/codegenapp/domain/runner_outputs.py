"""How test runners tell what happened: their summary lines and where a failure is reported.

One `Runner` per test runner, as regular expressions over lines already free of terminal
escapes. Each was written against the runner's real output, kept in
tests/fixtures/runner-outputs/ with the commands that made it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

# A line that says something went wrong, in the words of any tool, or in the shape of a
# runner's assertion lines (pytest's "E   ...", go's "    cart_test.go:38: ..."). Matching is
# loose on purpose: a false positive only keeps one more line, a miss can hide the cause.
ERROR_LINE = re.compile(
    r"\b(?:errors?|exception|traceback|fail(?:s|ed|ure|ures|ing)?|fatal|panic(?:ked)?|"
    r"assert\w*|expected|received|unexpected|not found|denied|refused|timed out|"
    r"segmentation fault)\b|^E\s{2,}\S|^\s*[✕✗✖×]\s|^\s+\w+_test\.go:\d+: ",
    re.IGNORECASE,
)
_NEVER = re.compile(r"(?!)")


@dataclass(frozen=True, slots=True)
class Runner:
    """How one test runner (or a crash) reports: `failure` matches the first line of one
    failure's report, which runs up to the first line matching `failure_end` after it."""

    name: str
    summary: re.Pattern[str]  # its closing counts, and its list of what failed
    failure: re.Pattern[str]
    failure_end: re.Pattern[str]
    # Reports are printed after this line; before it, the same names in a progress list.
    failures_from: re.Pattern[str] | None = None
    # A report that begins before its header (go test -v prints a test's output, then its
    # verdict): the pattern of that earlier line, with {name} from the header's "name" group.
    opened_by: str | None = None
    end_included: bool = False  # the ending line is the report's last line, not the next one's


TEST_RUNNERS = (
    Runner(
        "pytest",
        summary=re.compile(
            r"^=+ .*\b(?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|no tests ran)"
            r"\b.* =+$|^(?:FAILED|ERROR) \S|^!{3,} .* !{3,}$"
        ),
        failure=re.compile(r"^_{3,} (?P<name>.+?) _{3,}$"),
        failure_end=re.compile(r"^_{3,} .+ _{3,}$|^={3,}"),
        failures_from=re.compile(r"^=+ (?:FAILURES|ERRORS) =+$"),
    ),
    Runner(
        "unittest",
        summary=re.compile(r"^Ran \d+ tests? in |^(?:OK|FAILED)(?: \(.*\))?$"),
        # "FAIL: test_x (module.Class.test_x)"; pip's "ERROR: …" lines have no parenthesis.
        failure=re.compile(r"^(?:FAIL|ERROR): (?P<name>\w+) \([\w.]+\)$"),
        failure_end=re.compile(r"^={20,}$|^Ran \d+ tests? in "),
    ),
    Runner(
        "jest",
        summary=re.compile(r"^(?:Test Suites|Tests|Snapshots):\s+.*\btotal$"),
        failure=re.compile(r"^\s*● (?!Console$)(?P<name>.+)$"),
        failure_end=re.compile(r"^\s*● |^\s*(?:PASS|FAIL)\s{1,2}\S|^Test Suites:"),
    ),
    Runner(
        "mocha",
        summary=re.compile(r"^\s*\d+ (?:passing|failing|pending)\b"),
        failure=re.compile(r"^\s*\d+\) (?P<name>.+)$"),
        failure_end=re.compile(r"^\s*\d+\) "),
        failures_from=re.compile(r"^\s*\d+ failing\b"),
    ),
    Runner(
        "vitest",
        summary=re.compile(r"^\s*(?:Test Files|Tests|Errors)\s{2}.*\(\d+\)$"),
        failure=re.compile(r"^\s*FAIL\s+(?P<name>.+)$"),
        failure_end=re.compile(r"^\s*FAIL\s|⎯\[\d+/\d+\]⎯|^\s*Test Files\s"),
        failures_from=re.compile(r"⎯ Failed (?:Tests|Suites) \d+ ⎯"),
    ),
    Runner(
        "go test",
        summary=re.compile(r"^(?:ok|FAIL)\s+\S+\s+(?:[\d.]+s|\(cached\)|\[.*\])|^--- FAIL: "),
        failure=re.compile(r"^--- FAIL: (?P<name>\S+)"),
        failure_end=re.compile(
            r"^(?:=== (?:RUN|CONT|PAUSE|NAME)|--- (?:PASS|FAIL|SKIP):|FAIL|ok\s)"
        ),
        opened_by=r"^=== RUN\s+{name}$",
    ),
    Runner(
        "cargo test",
        summary=re.compile(r"^test result: |^error: test failed|^test \S+ \.\.\. FAILED$"),
        failure=re.compile(r"^---- (?P<name>\S+) stdout ----$"),
        failure_end=re.compile(r"^---- \S+ stdout ----$|^failures:$"),
        failures_from=re.compile(r"^failures:$"),
    ),
)
# When no test runner reported a failure: a Python crash, else the first line that says error.
_FALLBACKS = (
    Runner(
        "python",
        summary=_NEVER,
        failure=re.compile(r"^Traceback \(most recent call last\):$"),
        failure_end=re.compile(r"^(?!\s|Traceback|During handling|The above exception|$)"),
        end_included=True,
    ),
    Runner("error", summary=_NEVER, failure=ERROR_LINE, failure_end=re.compile(r"^\s*$")),
)


def summary_lines(lines: Sequence[str]) -> list[int]:
    """The indexes of every line that is a test runner's summary, in order."""
    return [i for i, line in enumerate(lines) if any(r.summary.search(line) for r in TEST_RUNNERS)]


def first_failure(lines: Sequence[str]) -> range | None:
    """The lines reporting the first failure: the earliest report of any test runner, else
    the first Python traceback, else the first error line and those up to a blank line."""
    reports = [found for runner in TEST_RUNNERS if (found := _first_report(runner, lines))]
    if reports:
        return min(reports, key=lambda report: report.start)
    for runner in _FALLBACKS:
        if found := _first_report(runner, lines):
            return found
    return None


def is_failure_line(line: str) -> bool:
    """Whether a line says that something failed: an error line, or a runner's failure header."""
    return bool(ERROR_LINE.search(line)) or any(r.failure.search(line) for r in TEST_RUNNERS)


def _first_report(runner: Runner, lines: Sequence[str]) -> range | None:
    start = 0
    if runner.failures_from is not None:
        after = (i + 1 for i, line in enumerate(lines) if runner.failures_from.search(line))
        start = next(after, len(lines))
    for i in range(start, len(lines)):
        if header := runner.failure.search(lines[i]):
            return range(_opening(runner, lines, i, header), _end(runner, lines, i))
    return None


def _opening(runner: Runner, lines: Sequence[str], header: int, match: re.Match[str]) -> int:
    if runner.opened_by is None or not match.groupdict().get("name"):
        return header
    opening = re.compile(runner.opened_by.format(name=re.escape(match["name"])))
    return next((i for i in range(header - 1, -1, -1) if opening.search(lines[i])), header)


def _end(runner: Runner, lines: Sequence[str], header: int) -> int:
    for i in range(header + 1, len(lines)):
        if runner.failure_end.search(lines[i]):
            return i + 1 if runner.end_included else i
    return len(lines)
