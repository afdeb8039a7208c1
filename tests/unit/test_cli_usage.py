"""A command-line agent's usage file: what is taken from it, and what makes us ignore it."""

import json

import pytest

from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.drivers.agent.cli_usage import MAX_USAGE_BYTES, UsageInvalid, parse_usage


def test_a_full_usage_file_is_taken_and_keys_we_do_not_know_are_ignored() -> None:
    data = {
        "input_tokens": 1234,
        "output_tokens": 567,
        "cost_usd": 0.0123,
        "model": "claude-sonnet-4-5",
        "cache_read_tokens": 99,
    }
    assert parse_usage(json.dumps(data).encode()) == AgentUsage(
        input_tokens=1234, output_tokens=567, cost_usd=0.0123, model="claude-sonnet-4-5"
    )


def test_every_part_is_optional_and_a_whole_dollar_is_a_cost() -> None:
    assert parse_usage(b'{"cost_usd": 2}') == AgentUsage(cost_usd=2.0)
    assert parse_usage(b'{"output_tokens": 0, "model": null}') == AgentUsage(output_tokens=0)


def test_a_file_that_reports_nothing_is_no_usage() -> None:
    assert parse_usage(b"{}") is None
    assert parse_usage(b'{"tokens": 5}') is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"input_tokens": -1}', "input_tokens: Input should be greater than or equal to 0"),
        (b'{"input_tokens": 12.0}', "input_tokens: Input should be a valid integer"),
        (b'{"output_tokens": true}', "output_tokens: Input should be a valid integer"),
        (b'{"output_tokens": "12"}', "output_tokens: Input should be a valid integer"),
        (b'{"input_tokens": 2147483648}', "input_tokens: Input should be less than or equal"),
        (b'{"cost_usd": "0.01"}', "cost_usd: Input should be a valid number"),
        (b'{"cost_usd": -0.5}', "cost_usd: Input should be greater than or equal to 0"),
        (b'{"cost_usd": NaN}', "cost_usd: Input should be a finite number"),
        (b'{"model": "gpt 4"}', "model: String should match pattern"),
        (b'{"model": ""}', "model: String should have at least 1 character"),
        (b'{"model": "' + b"m" * 101 + b'"}', "model: String should have at most 100 characters"),
        (b"[1, 2]", "file: Input should be an object"),
        (b"input_tokens=5", "file: Invalid JSON"),
        (b'{"model": "\xff"}', "file: Invalid JSON"),
    ],
)
def test_a_file_with_a_bad_value_is_refused_naming_the_field(data: bytes, problem: str) -> None:
    with pytest.raises(UsageInvalid) as refused:
        parse_usage(data)
    assert str(refused.value).startswith(problem)


def test_a_file_larger_than_the_limit_is_refused_whatever_it_holds() -> None:
    padded = b'{"input_tokens": 1, "note": "' + b"x" * MAX_USAGE_BYTES + b'"}'
    with pytest.raises(UsageInvalid, match=f"file: more than {MAX_USAGE_BYTES} bytes"):
        parse_usage(padded)
