"""Codegen's raw run statuses, in any case, read as the phase they stand for."""

import pytest

from codegenapp.domain.codegen_status import CodegenPhase, codegen_phase

DOCUMENTED = {
    "COMPLETE": CodegenPhase.SUCCEEDED,
    "COMPLETED": CodegenPhase.SUCCEEDED,
    "ERROR": CodegenPhase.FAILED,
    "FAILED": CodegenPhase.FAILED,
    "TIMEOUT": CodegenPhase.FAILED,
    "MAX_ITERATIONS_REACHED": CodegenPhase.FAILED,
    "OUT_OF_TOKENS": CodegenPhase.FAILED,
    "CANCELLED": CodegenPhase.STOPPED,
    "STOPPED": CodegenPhase.STOPPED,
    "PENDING": CodegenPhase.RUNNING,
    "ACTIVE": CodegenPhase.RUNNING,
    "RUNNING": CodegenPhase.RUNNING,
    "EVALUATION": CodegenPhase.RUNNING,
    "PAUSED": CodegenPhase.RUNNING,
}


@pytest.mark.parametrize(("status", "phase"), DOCUMENTED.items())
def test_each_documented_status_reads_as_its_phase_in_any_case(
    status: str, phase: CodegenPhase
) -> None:
    assert codegen_phase(status) is phase
    assert codegen_phase(status.lower()) is phase
    assert codegen_phase(status.title()) is phase
    assert codegen_phase(f" {status}\n") is phase


@pytest.mark.parametrize("status", ["THINKING", "QUEUED_FOR_REVIEW", "", "complete-ish", None])
def test_an_unknown_or_missing_status_is_still_running(status: str | None) -> None:
    assert codegen_phase(status) is CodegenPhase.RUNNING


def test_only_running_is_not_final() -> None:
    assert [phase for phase in CodegenPhase if not phase.is_final] == [CodegenPhase.RUNNING]
