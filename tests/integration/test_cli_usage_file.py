"""A command-line agent's usage file is read through its sandbox: bounded, never through a
symbolic link, and only from a regular file."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.sandboxes import shell

from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.drivers.agent.cli_usage import MAX_USAGE_BYTES, UsageInvalid, read_usage
from codegenapp.drivers.sandbox import SandboxHandle, SandboxSpec
from codegenapp.drivers.sandbox.process import ProcessSandbox

USAGE = {"input_tokens": 10, "output_tokens": 2, "cost_usd": 0.5, "model": "m-1"}


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[ProcessSandbox, SandboxHandle]]:
    driver = ProcessSandbox(tmp_path / "state", tmp_path / "work")
    handle = await driver.create(SandboxSpec(name="usage-test"))
    try:
        yield driver, handle
    finally:
        await driver.destroy(handle)
    assert not list((tmp_path / "work").iterdir())


async def _written(sandbox: tuple[ProcessSandbox, SandboxHandle], script: str) -> None:
    code, said = await shell(*sandbox, f'f="$HOME/.codegenapp-usage.json"; {script}')
    assert code == 0, said


async def test_no_file_is_no_usage_and_a_regular_file_is_read(
    sandbox: tuple[ProcessSandbox, SandboxHandle],
) -> None:
    assert await read_usage(*sandbox) is None
    await _written(sandbox, f"printf '%s' '{json.dumps(USAGE)}' >\"$f\"")
    assert await read_usage(*sandbox) == AgentUsage(
        input_tokens=10, output_tokens=2, cost_usd=0.5, model="m-1"
    )


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ('ln -s "$OUTSIDE" "$f"', "file: is a symbolic link"),
        ('mkfifo "$f"', "file: is not a regular file"),
        ('mkdir "$f"', "file: is not a regular file"),
        (f'head -c {MAX_USAGE_BYTES + 1} /dev/zero >"$f"', f"file: more than {MAX_USAGE_BYTES}"),
        ('echo \'{"input_tokens": -5}\' >"$f"', "input_tokens: Input should be greater"),
    ],
)
async def test_a_file_that_cannot_be_taken_is_refused_saying_why(
    sandbox: tuple[ProcessSandbox, SandboxHandle], tmp_path: Path, script: str, problem: str
) -> None:
    outside = tmp_path / "outside.json"  # valid usage, where a link could point
    outside.write_text(json.dumps(USAGE))
    await _written(sandbox, script.replace("$OUTSIDE", str(outside)))
    with pytest.raises(UsageInvalid) as refused:
        await read_usage(*sandbox)
    assert str(refused.value).startswith(problem)
