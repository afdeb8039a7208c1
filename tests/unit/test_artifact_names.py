"""Which names an artifact may have and what kind each is, and which Playwright traces a web
evaluation keeps: only a failed step's, and none too large to serve."""

import os
from pathlib import Path
from typing import cast

import pytest

from codegenapp.domain.artifacts import (
    MEDIA_TYPES,
    PAGES_TRACE,
    ArtifactKind,
    artifact_kind,
    scenario_artifact,
)
from codegenapp.drivers.evaluator import Evaluation
from codegenapp.steps import web_traces
from codegenapp.steps.log import StepLog


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("page-0.png", ArtifactKind.SCREENSHOT),
        ("findings.json", ArtifactKind.FINDINGS),
        ("page-10.txt", ArtifactKind.PAGE_TEXT),
        ("build-file-1.log", ArtifactKind.COMMAND_FILE),
        (PAGES_TRACE, ArtifactKind.TRACE),
        (scenario_artifact(2, "zip"), ArtifactKind.TRACE),
    ],
)
def test_each_extension_names_one_kind(name: str, kind: ArtifactKind) -> None:
    assert artifact_kind(name) is kind


@pytest.mark.parametrize(
    "name",
    [
        "Trace.zip",
        "trace.ZIP",
        ".trace.zip.partial",  # where a trace is written before it is complete
        "trace.zip.zip",
        "trace.tar.gz",
        "../trace.zip",
        "traces/trace.zip",
        "-trace.zip",
        "a" * 61 + ".zip",  # 65 characters
    ],
)
def test_a_name_that_could_be_a_path_or_another_file_is_no_artifact(name: str) -> None:
    assert artifact_kind(name) is None


def test_a_trace_is_served_as_a_zip() -> None:
    assert PAGES_TRACE == "trace.zip"
    assert scenario_artifact(0, "zip") == "scenario-0.zip"
    assert MEDIA_TYPES[ArtifactKind.TRACE] == "application/zip"
    assert set(MEDIA_TYPES) == set(ArtifactKind)


class RecordingLog:
    def __init__(self) -> None:
        self.notes: list[str] = []

    async def note(self, text: str) -> None:
        self.notes.append(text)


def _evaluation(directory: Path, sizes: dict[str, int]) -> Evaluation:
    for name, size in sizes.items():
        (directory / name).write_bytes(b"")
        os.truncate(directory / name, size)  # sparse: no disk for a large one
    return Evaluation("http://127.0.0.1:9000", (), (), 10, artifacts=tuple(sorted(sizes)))


async def test_a_passing_step_keeps_no_trace(tmp_path: Path) -> None:
    evaluation = _evaluation(tmp_path, {"page-0.png": 10, "trace.zip": 10, "scenario-0.zip": 10})
    log = RecordingLog()

    settled = await web_traces.settle(tmp_path, evaluation, cast(StepLog, log), keep=False)

    assert settled.artifacts == ("page-0.png",)
    assert sorted(os.listdir(tmp_path)) == ["page-0.png"]
    assert log.notes == []


async def test_a_failing_step_keeps_its_traces_but_one_too_large_to_serve(
    tmp_path: Path,
) -> None:
    too_large = web_traces.MAX_TRACE_BYTES + 1
    evaluation = _evaluation(
        tmp_path, {"page-0.png": 10, "trace.zip": 10, "scenario-0.zip": too_large}
    )
    log = RecordingLog()

    settled = await web_traces.settle(tmp_path, evaluation, cast(StepLog, log), keep=True)
    again = await web_traces.settle(tmp_path, settled, cast(StepLog, log), keep=True)

    assert settled.artifacts == again.artifacts == ("page-0.png", "trace.zip")
    assert sorted(os.listdir(tmp_path)) == ["page-0.png", "trace.zip"]
    assert log.notes == [
        "the Playwright trace scenario-0.zip (32.0 MiB) is larger than 32 MiB: not kept"
    ]
