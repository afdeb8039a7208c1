"""A long command output made into a short bug report, the part of it a developer would read.

Colours and progress-bar redraws go; a run of the same line (numbers aside) becomes that line
and a count; and when the output is still too long, what is kept, in this order, is the test
runner's summary, its first failure, then the end and the start of the output, with a line
saying how many lines were left out wherever some were.
"""

import bisect
import itertools
import re
from collections.abc import Sequence

from codegenapp.domain.masking import strip_ansi
from codegenapp.domain.runner_outputs import ERROR_LINE, first_failure, summary_lines

# What a run of repeated lines ends with, for readers that must see through it.
REPEAT_MARK = re.compile(r"  \[× \d+(?:, numbers differ)?\]$")
_DIGITS = re.compile(r"\d+")
_MIN_LINE_CHARS = 80


def condense(output: str, *, max_lines: int, max_chars: int) -> str:
    """`output` as at most `max_lines` lines and `max_chars` characters, ANSI-stripped, with
    runs of repeated lines collapsed and over-long lines cut short. Pure and deterministic.

    Raises ValueError if a bound is below 1.
    """
    if max_lines < 1 or max_chars < 1:
        raise ValueError(
            f"max_lines and max_chars must be at least 1, not {max_lines}, {max_chars}"
        )
    width = max(_MIN_LINE_CHARS, 2 * max_chars // max_lines)
    lines = _collapsed(screen_lines(output), width)
    if len(lines) <= max_lines and sum(len(line) + 1 for line in lines) - 1 <= max_chars:
        return "\n".join(lines)
    text = _rendered(lines, _kept(lines, max_lines=max_lines, max_chars=max_chars))
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def left_out(count: int) -> str:
    """The line standing for `count` lines that were left out."""
    return f"… {count} line{'' if count == 1 else 's'} left out …"


def screen_lines(output: str) -> list[str]:
    """The lines of `output` as a terminal finally shows them: without colour or cursor
    escapes, each as last redrawn after a carriage return, without trailing spaces."""
    lines = strip_ansi(output).replace("\r\n", "\n").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return [_last_redraw(line).rstrip() for line in lines]


def _last_redraw(line: str) -> str:
    if "\r" not in line:
        return line
    return next((part for part in reversed(line.split("\r")) if part.strip()), "")


def _collapsed(lines: Sequence[str], width: int) -> list[str]:
    collapsed = []
    for shape, group in itertools.groupby(lines, key=lambda line: _DIGITS.sub("#", line)):
        run = list(group)
        line = run[0] if len(run[0]) <= width else run[0][: width - 1] + "…"
        if len(run) == 1 or not shape:  # a run of blank lines is one blank line
            collapsed.append(line)
        else:
            differ = "" if all(other == run[0] for other in run) else ", numbers differ"
            collapsed.append(f"{line}  [× {len(run)}{differ}]")
    return collapsed


def _priorities(lines: Sequence[str], max_lines: int) -> list[tuple[int, int, int]]:
    """A sort key per line, the most important first: the summary (its last lines), the first
    failure (its header, its error lines, the lines nearest them), then the end and the start,
    the end weighing twice as much."""
    count = len(lines)
    keys = [(2, min(count - 1 - i, 2 * i), i) for i in range(count)]
    for rank, i in enumerate(_first_failure_ranked(lines)[: max_lines // 2]):
        keys[i] = (1, rank, i)
    for i in summary_lines(lines)[-max(1, max_lines // 4) :]:
        keys[i] = (0, 0, i)
    return keys


def _first_failure_ranked(lines: Sequence[str]) -> list[int]:
    """The first failure's lines, most telling first: its header, its error lines, then the
    others by their distance to one of those."""
    report = first_failure(lines)
    if report is None:
        return []
    picked = [report.start] + [i for i in report[1:] if ERROR_LINE.search(lines[i])]
    chosen = set(picked)

    def distance(i: int) -> int:
        at = bisect.bisect_left(picked, i)
        return min(abs(i - picked[k]) for k in (at - 1, at) if 0 <= k < len(picked))

    return sorted(report, key=lambda i: (i != report.start, distance(i) + (i not in chosen)))


def _kept(lines: Sequence[str], *, max_lines: int, max_chars: int) -> set[int]:
    """The lines to keep, most important first, while they and the markers for the lines
    left between them fit both bounds."""
    last = len(lines) - 1
    marker_chars = len(left_out(len(lines))) + 1
    kept: set[int] = set()
    gaps, chars = 1, marker_chars  # at first everything is one run left out
    order = sorted(range(len(lines)), key=_priorities(lines, max_lines).__getitem__)
    for i in [*order, *order]:  # the second pass fills holes that have become one line wide
        if i in kept:
            continue
        # Keeping a line joins, shortens or splits the run of left-out lines it was in.
        change = 1 - (i == 0 or i - 1 in kept) - (i == last or i + 1 in kept)
        if len(kept) + 1 + gaps + change > max_lines:
            continue
        if chars + len(lines[i]) + 1 + change * marker_chars > max_chars:
            continue
        kept.add(i)
        gaps, chars = gaps + change, chars + len(lines[i]) + 1 + change * marker_chars
    return kept


def _rendered(lines: Sequence[str], kept: set[int]) -> str:
    shown: list[str] = []
    for is_kept, run in itertools.groupby(range(len(lines)), key=kept.__contains__):
        indexes = list(run)
        shown += [lines[i] for i in indexes] if is_kept else [left_out(len(indexes))]
    return "\n".join(shown)
