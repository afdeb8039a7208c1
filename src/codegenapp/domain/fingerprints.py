"""A failure's fingerprint: equal for two runs that failed the same way, whatever changes from
run to run (timings, ids, shas, temporary paths, process numbers), and different otherwise.

It is made of the lines that tell the failure: the test runner's summary, the first failure's
header and the lines up to its first blank line (its name, for runners that print it below
the header), and every line that looks like an error, failure or assertion; of the last lines
when there is none of those. Summary lines keep their counts ("3 failed, 9 passed" is not
"4 failed, 8 passed": a fix that made one test pass changed something); every other number
goes (line numbers move when code is edited; the values an assertion compares seldom tell
two failures apart better than the test's name and the assertion's words).
"""

import hashlib
import re
from collections.abc import Sequence

from codegenapp.domain.log_condenser import REPEAT_MARK, screen_lines
from codegenapp.domain.runner_outputs import (
    TEST_RUNNERS,
    first_failure,
    is_failure_line,
    summary_lines,
)

LAST_LINES = 10  # what a failure is told by when no line looks like an error
_IDENTITY_LINES = 5  # of the first failure: its header and what follows up to a blank line
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# In this order: the specific before the general (a timestamp holds numbers, a uuid hex).
_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\b", re.I), "#"),
    (
        re.compile(
            r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?"
            rf"|\d{{1,2}}/{_MONTH}/\d{{4}}(?::\d\d){{3}}(?: [+-]\d{{4}})?"
            rf"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d {_MONTH} \d{{4}} \d\d:\d\d:\d\d GMT"
            rf"|{_MONTH} +\d{{1,2}} \d\d:\d\d:\d\d"
            r"|\b\d{1,2}:\d\d:\d\d(?:[.,]\d+)?\b"
        ),
        "#",
    ),
    (
        re.compile(
            r"\(?\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|secs?|seconds?|m|mins?|minutes?|h)\b\)?"
        ),
        "",
    ),
    (re.compile(r"(?:[\w.~@+-]*/)+"), ""),  # a path's directories: its basename stays
    (re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{7,}\b", re.I), "#"),
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*")
_PADDING = re.compile(r"([^\w\s]|_)\1{3,}")  # pytest centres its lines in runs of = and _


def failure_fingerprint(step: str, check: str | None, output: str) -> str:
    """Sixteen hex digits naming how `step` (and `check`) failed, given the command's output,
    raw or condensed: terminal escapes, redrawn lines and repeat counts do not matter."""
    material = "\x1f".join([step, check or "", *failure_lines(output)])
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def failure_lines(output: str) -> list[str]:
    """The normalised lines a fingerprint is made of, in a canonical order (runners that run
    tests in parallel print their failures in any order)."""
    lines = [REPEAT_MARK.sub("", line) for line in screen_lines(output)]
    summary = sorted({_normalised(lines[i], keep_counts=True) for i in summary_lines(lines)})
    identity = [_normalised(line) for line in _first_failure_identity(lines)]
    errors = sorted({_normalised(line) for line in lines if is_failure_line(line)})
    told = [*summary, *identity, *errors]
    if not told:
        told = [_normalised(line) for line in lines if line.strip()][-LAST_LINES:]
    return told


def _first_failure_identity(lines: Sequence[str]) -> list[str]:
    """A test runner's first failure header and the lines after it up to a blank line."""
    report = first_failure(lines)
    if report is None:
        return []
    # Not always the report's first line: go test -v prints a test's output before its verdict.
    header = next(
        (i for i in report if any(r.failure.search(lines[i]) for r in TEST_RUNNERS)), None
    )
    if header is None:  # a crash or an error line, not a test runner's report
        return []
    identity = [lines[header]]
    for line in lines[header + 1 : min(report.stop, header + _IDENTITY_LINES)]:
        if not line.strip():
            break
        identity.append(line)
    return identity


def _normalised(line: str, *, keep_counts: bool = False) -> str:
    for pattern, replacement in _VOLATILE:
        line = pattern.sub(replacement, line)
    if not keep_counts:
        line = _NUMBER.sub("#", line)
    return " ".join(_PADDING.sub(r"\1\1\1", line).split())
