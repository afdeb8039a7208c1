"""A long command output condensed into a bug report, on what real test runners print.

The outputs under tests/fixtures/runner-outputs/ were made by running each runner on a tiny
failing project (its README.md says how): install noise first, then passing and failing tests.
"""

import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from codegenapp.domain.log_condenser import condense

OUTPUTS = Path(__file__).parents[1] / "fixtures" / "runner-outputs"
BOUNDS = [(80, 8000), (30, 3000)]  # what the error context uses, and tighter
_MARKER = re.compile(r"^… (\d+) lines? left out …$")


def _output(name: str) -> str:
    return (OUTPUTS / name).read_text()


@dataclass(frozen=True)
class Expected:
    """What a reader must find, as whole lines (leading spaces aside), in a condensed output."""

    output: str
    summary: tuple[str, ...]
    first_failure: tuple[str, ...]  # the failing test's name and what its assertion said


REPORTS = [
    Expected(
        "pytest.txt",
        ("========================= 4 failed, 8 passed in 0.07s ==========================",),
        (
            "_______________________ test_the_total_counts_quantities _______________________",
            "E       AssertionError: assert 450 == 1200",
        ),
    ),
    Expected(
        "pip-then-pytest.txt",
        ("========================= 4 failed, 8 passed in 0.05s ==========================",),
        (
            "_______________________ test_the_total_counts_quantities _______________________",
            "E       AssertionError: assert 450 == 1200",
        ),
    ),
    Expected(
        "pytest-collection-error.txt",
        ("=============================== 1 error in 0.32s ===============================",),
        (
            "_____________________ ERROR collecting tests/test_cart.py ______________________",
            "E   ModuleNotFoundError: No module named 'cart'",
        ),
    ),
    Expected(
        "unittest.txt",
        ("Ran 12 tests in 0.004s", "FAILED (failures=3, errors=1)"),
        (
            "ERROR: test_an_empty_quantity_is_zero "
            "(tests.test_cart_unittest.QuantityTest.test_an_empty_quantity_is_zero)",
            "ValueError: invalid literal for int() with base 10: ''",
        ),
    ),
    Expected(
        "jest.txt",
        ("Test Suites: 1 failed, 1 total", "Tests:       21 failed, 33 passed, 54 total"),
        (
            "● Cart › totals a mixed cart with quantities",
            "Expected: 1200",
            "Received: 450",
        ),
    ),
    Expected(
        "mocha.txt",
        ("33 passing (18ms)", "21 failing"),
        (
            "1) Cart",
            "totals a mixed cart with quantities:",
            "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:",
            "450 !== 1200",
        ),
    ),
    Expected(
        "vitest.txt",
        ("Test Files  1 failed (1)", "Tests  21 failed | 33 passed (54)"),
        (
            "FAIL  test/cart.test.js > Cart > totals a mixed cart with quantities",
            "AssertionError: expected 450 to be 1200 // Object.is equality",
        ),
    ),
    Expected(
        "go.txt",
        ("FAIL\texample.com/cart\t0.006s",),
        (
            "--- FAIL: TestTheTotalCountsQuantities (0.00s)",
            "cart_test.go:38: TotalCents() = 250, want 1000",
        ),
    ),
    Expected(
        "go-without-v.txt",
        ("FAIL\texample.com/cart\t0.004s",),
        (
            "--- FAIL: TestTheTotalCountsQuantities (0.00s)",
            "cart_test.go:38: TotalCents() = 250, want 1000",
        ),
    ),
    Expected(
        "cargo.txt",
        (
            "test result: FAILED. 5 passed; 4 failed; 0 ignored; 0 measured; 0 filtered out; "
            "finished in 0.00s",
            "error: test failed, to rerun pass `--lib`",
        ),
        (
            "---- tests::a_discount_is_a_percentage stdout ----",
            "assertion `left == right` failed: 10% off 20.00",
        ),
    ),
]


@pytest.mark.parametrize("bounds", BOUNDS, ids=lambda bounds: f"{bounds[0]}-lines")
@pytest.mark.parametrize("expected", REPORTS, ids=lambda expected: expected.output)
def test_each_runners_report_keeps_its_summary_and_first_failure(
    expected: Expected, bounds: tuple[int, int]
) -> None:
    max_lines, max_chars = bounds
    raw = _output(expected.output)
    report = condense(raw, max_lines=max_lines, max_chars=max_chars)

    shown = {line.strip() for line in report.splitlines()}
    assert set(expected.summary) <= shown
    assert set(expected.first_failure) <= shown
    assert len(report.splitlines()) <= max_lines
    assert len(report) <= max_chars
    assert "\x1b" not in report
    if len(raw.splitlines()) > max_lines:
        assert any(_MARKER.match(line) for line in report.splitlines())


def test_a_mocha_report_keeps_its_summary_and_first_failure() -> None:
    """What users measured: the last 80 lines held failures 18 to 21 of 21, without the
    "33 passing / 21 failing" summary or the first failure."""
    raw = _output("mocha.txt")
    old_tail = "\n".join(raw.splitlines()[-80:])
    assert "21 failing" not in old_tail
    assert "totals a mixed cart with quantities:" not in old_tail

    report = condense(raw, max_lines=80, max_chars=8000)

    assert "  33 passing (18ms)\n  21 failing\n\n  1) Cart\n" in report
    assert "       totals a mixed cart with quantities:" in report
    assert report.index("21 failing") < report.index("21) writeReceipt")  # the order is kept


def test_the_summary_and_first_failure_are_kept_when_noise_follows_them() -> None:
    teardown = [f"Stopping container cart-{a}{b} ... done" for a in "abcdefgh" for b in "abcdefgh"]
    raw = _output("pytest.txt") + "\n".join(teardown) + "\n"

    report = condense(raw, max_lines=30, max_chars=3000)

    assert "========================= 4 failed, 8 passed in 0.07s ====" in report
    assert "E       AssertionError: assert 450 == 1200" in report
    assert report.splitlines()[-1] == teardown[-1]


def test_the_coloured_output_of_a_js_runner_is_stripped_of_its_escapes() -> None:
    raw = _output("jest.txt")
    assert "\x1b[" in raw  # FORCE_COLOR=1: made as a terminal shows it

    report = condense(raw, max_lines=80, max_chars=8000)

    assert "\x1b" not in report
    assert "Tests:       21 failed, 33 passed, 54 total" in report


def test_sixty_health_check_404s_become_one_line_with_a_count() -> None:
    raw = _output("health-check-404s.txt")
    assert sum('"GET /health HTTP/1.1" 404' in line for line in raw.splitlines()) == 60

    report = condense(raw, max_lines=80, max_chars=8000)

    requests = [line for line in report.splitlines() if "GET /health" in line]
    assert len(requests) == 1
    assert requests[0].endswith('"GET /health HTTP/1.1" 404 Not Found  [× 60, numbers differ]')
    assert report.splitlines()[-1] == raw.splitlines()[-1]


def test_identical_lines_in_a_row_are_counted_without_a_word_about_numbers() -> None:
    report = condense(
        "start\n" + "npm warn deprecated inflight\n" * 5 + "end\n", max_lines=10, max_chars=500
    )
    assert report == "start\nnpm warn deprecated inflight  [× 5]\nend"


def test_a_run_of_blank_lines_becomes_one_blank_line() -> None:
    assert condense("a\n\n\n\n\nb\n", max_lines=10, max_chars=100) == "a\n\nb"


def test_a_progress_bar_redrawn_by_carriage_returns_shows_its_last_state() -> None:
    output = "Downloading 10%\rDownloading 55%\rDownloading 100%\r\nDone\r\n"
    assert condense(output, max_lines=10, max_chars=100) == "Downloading 100%\nDone"


def test_a_long_output_keeps_its_start_and_end_and_counts_what_it_left_out() -> None:
    words = [a + b for a in string.ascii_lowercase for b in string.ascii_lowercase][:500]
    lines = [f"compiled module {word}" for word in words]

    report = condense("\n".join(lines), max_lines=20, max_chars=2000).splitlines()

    assert len(report) <= 20
    assert report[0] == lines[0]
    assert report[-1] == lines[-1]
    markers = [int(m[1]) for line in report if (m := _MARKER.match(line))]
    assert markers
    assert sum(markers) + len(report) - len(markers) == len(lines)  # nothing lost uncounted
    kept = [line for line in report if not _MARKER.match(line)]
    assert kept == [line for line in lines if line in kept]  # in their order


def test_the_end_gets_more_room_than_the_start() -> None:
    lines = [f"compiled module {a}{b}" for a in "abcdefghij" for b in "abcdefghij"]
    report = condense("\n".join(lines), max_lines=31, max_chars=5000).splitlines()
    head = report.index(next(line for line in report if _MARKER.match(line)))
    assert len(report) - head - 1 > head


def test_a_crash_outside_any_test_runner_keeps_its_traceback() -> None:
    noise = [f"INFO: loaded plugin {a}{b}" for a in "abcdefgh" for b in "abcdefgh"]
    crash = [
        "Traceback (most recent call last):",
        '  File "/srv/app/main.py", line 12, in <module>',
        '    port = int(os.environ["PORT"])',
        "KeyError: 'PORT'",
    ]
    output = "\n".join(noise[:32] + crash + noise[32:])

    report = condense(output, max_lines=20, max_chars=2000)

    assert "\n".join(crash) in report


def test_a_line_longer_than_the_whole_budget_is_cut_short() -> None:
    report = condense("x" * 100_000 + "\ndone", max_lines=80, max_chars=8000)
    assert len(report) <= 8000
    assert report.splitlines()[0].endswith("…")
    assert report.splitlines()[-1] == "done"


def test_an_empty_output_stays_empty() -> None:
    assert condense("", max_lines=80, max_chars=8000) == ""


@pytest.mark.parametrize(("max_lines", "max_chars"), [(0, 100), (10, 0)])
def test_a_bound_below_one_is_refused(max_lines: int, max_chars: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        condense("a", max_lines=max_lines, max_chars=max_chars)


@pytest.mark.parametrize("name", sorted(path.name for path in OUTPUTS.glob("*.txt")))
@pytest.mark.parametrize(("max_lines", "max_chars"), [(80, 8000), (12, 600), (3, 200), (1, 40)])
def test_every_output_fits_its_bounds_however_tight(
    name: str, max_lines: int, max_chars: int
) -> None:
    report = condense(_output(name), max_lines=max_lines, max_chars=max_chars)
    assert len(report.splitlines()) <= max_lines
    assert len(report) <= max_chars
