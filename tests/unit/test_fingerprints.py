"""A failure's fingerprint: the same for two runs of one failure, different for another.

Each runner's project under tests/fixtures/runner-outputs/ was run twice as it is, the second
time from another directory (so timings, temporary paths, uuids, thread and process numbers
differ: "-second-run"), and once with one of its bugs fixed ("-one-bug-fixed").
"""

from pathlib import Path

import pytest

from codegenapp.domain.fingerprints import failure_fingerprint, failure_lines
from codegenapp.domain.log_condenser import condense

OUTPUTS = Path(__file__).parents[1] / "fixtures" / "runner-outputs"
RUNNERS = ["pytest", "unittest", "jest", "mocha", "vitest", "go", "cargo"]


def _output(name: str) -> str:
    return (OUTPUTS / f"{name}.txt").read_text()


def _fingerprint(output: str) -> str:
    """As the error context takes it: from the output condensed as it is stored."""
    return failure_fingerprint("deploy", "test", condense(output, max_lines=80, max_chars=8000))


@pytest.mark.parametrize("name", [*RUNNERS, "pip-then-pytest", "go-without-v", "health-check-404s"])
def test_two_runs_of_the_same_failure_have_the_same_fingerprint(name: str) -> None:
    first, second = _output(name), _output(f"{name}-second-run")
    assert first != second  # they do differ: timings, paths, ids

    assert _fingerprint(first) == _fingerprint(second)
    assert failure_fingerprint("deploy", "test", first) == failure_fingerprint(
        "deploy", "test", second
    )


@pytest.mark.parametrize("name", RUNNERS)
def test_a_fix_that_made_some_tests_pass_changes_the_fingerprint(name: str) -> None:
    assert _fingerprint(_output(name)) != _fingerprint(_output(f"{name}-one-bug-fixed"))


def test_each_runners_failure_has_its_own_fingerprint() -> None:
    fingerprints = {_fingerprint(_output(name)) for name in RUNNERS}
    assert len(fingerprints) == len(RUNNERS)


def test_the_step_and_the_check_are_part_of_the_fingerprint() -> None:
    output = _output("pytest")
    assert failure_fingerprint("deploy", "test", output) != failure_fingerprint(
        "deploy", "lint", output
    )
    assert failure_fingerprint("deploy", "test", output) != failure_fingerprint(
        "health_check", "test", output
    )
    assert failure_fingerprint("deploy", None, output) != failure_fingerprint(
        "deploy", "test", output
    )


def test_ids_paths_timestamps_and_durations_are_not_part_of_a_failure() -> None:
    first = (
        "2026-12-07T06:35:06.052Z AssertionError: wrong total in "
        "/tmp/pytest-of-root/pytest-6/test0/receipt-92fdfc9c5d59410c97b15620cf368c92.txt "
        "for order 8350a68b-abc1-49ff-9d84-4c88ccf3b4f1 at 0x7f3a2c after 0.51s (pid 22542)"
    )
    second = (
        "2026-12-08T11:02:59.700Z AssertionError: wrong total in "
        "/home/ci/work/tmp/receipt-cfb235d9ff76408e8976248c8feed50c.txt "
        "for order 4760a9a9-e6e1-4634-ae16-4ca3757ae59e at 0x55e1 after 1.07s (pid 9)"
    )

    assert failure_lines(first) == failure_lines(second)
    assert failure_lines(first) == [
        "# AssertionError: wrong total in receipt-#.txt for order # at # after (pid #)"
    ]


def test_a_different_assertion_or_test_name_is_a_different_failure() -> None:
    failed = "FAILED tests/test_cart.py::test_total - AssertionError: assert 450 == 1200\n"
    assert _fingerprint(failed) != _fingerprint(failed.replace("test_total", "test_discount"))
    assert _fingerprint(failed) != _fingerprint(failed.replace("AssertionError", "KeyError"))


def test_another_first_failing_test_is_another_failure_though_its_assertion_reads_the_same() -> (
    None
):
    """Mocha names a failure on the line after its header: the header alone says "1) Cart"."""
    output = _output("mocha")
    renamed = output.replace("totals a mixed cart with quantities", "totals a cart of pens")
    assert _fingerprint(output) != _fingerprint(renamed)


def test_a_runners_counts_tell_progress_apart() -> None:
    before = "x.py F.F\n========================= 2 failed, 6 passed in 0.05s ===\n"
    after = "x.py ..F\n========================= 1 failed, 7 passed in 0.09s ===\n"
    assert _fingerprint(before) != _fingerprint(after)
    assert _fingerprint(before) == _fingerprint(before.replace("0.05s", "12.31s"))


def test_how_often_a_line_was_repeated_does_not_change_the_failure() -> None:
    request = 'INFO:     127.0.0.1:{port} - "GET /health HTTP/1.1" 404 Not Found\n'
    sixty = "".join(request.format(port=40000 + n) for n in range(60))
    fifty_two = "".join(request.format(port=51000 + n) for n in range(52))
    assert _fingerprint(sixty) == _fingerprint(fifty_two)
    assert _fingerprint(sixty) != _fingerprint(sixty.replace("/health", "/healthz"))


def test_an_output_without_error_lines_is_told_by_its_last_lines() -> None:
    words = ["fetch", "build", "bundle", "copy", "link", "sign", "pack", "tag", "push", "wait"]
    output = "\n".join(f"step {word} done" for word in words)
    assert failure_lines(output) == [f"step {word} done" for word in words]
    assert _fingerprint(output) != _fingerprint(output.replace("copy", "upload"))
    assert _fingerprint(output) == _fingerprint("step warm up done\n" * 20 + output)


def test_colours_do_not_change_a_fingerprint() -> None:
    plain = "FAIL: test_total (tests.CartTest.test_total)\nAssertionError: 450 != 1200\n"
    coloured = "\x1b[31mFAIL\x1b[0m: test_total (tests.CartTest.test_total)\n" + (
        "\x1b[1mAssertionError\x1b[0m: 450 != 1200\n"
    )
    assert failure_fingerprint("deploy", "test", plain) == failure_fingerprint(
        "deploy", "test", coloured
    )


def test_a_fingerprint_is_sixteen_hex_digits() -> None:
    fingerprint = failure_fingerprint("deploy", "test", _output("go"))
    assert len(fingerprint) == 16
    int(fingerprint, 16)
