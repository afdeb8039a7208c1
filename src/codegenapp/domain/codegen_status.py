"""What the raw `status` of a Codegen agent run means to us: running, succeeded, failed or stopped.

Codegen's `status` is an untyped string. The live API answers in UPPERCASE, some of its docs show
lowercase (`completed`, `failed`), and new values appear without notice; so the comparison is
case-insensitive and a value we do not know counts as still running: the caller bounds every
wait with its own timeout, and a run that never ends is caught there, not guessed at here.
"""

from enum import StrEnum


class CodegenPhase(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        return self is not CodegenPhase.RUNNING


_PHASES: dict[str, CodegenPhase] = {
    **dict.fromkeys(("COMPLETE", "COMPLETED"), CodegenPhase.SUCCEEDED),
    **dict.fromkeys(
        ("ERROR", "FAILED", "TIMEOUT", "MAX_ITERATIONS_REACHED", "OUT_OF_TOKENS"),
        CodegenPhase.FAILED,
    ),
    **dict.fromkeys(("CANCELLED", "STOPPED"), CodegenPhase.STOPPED),
    **dict.fromkeys(("PENDING", "ACTIVE", "RUNNING", "EVALUATION", "PAUSED"), CodegenPhase.RUNNING),
}


def codegen_phase(status: str | None) -> CodegenPhase:
    """The phase a Codegen run `status` stands for. Case and surrounding blanks do not matter;
    a missing (null) or unknown status is RUNNING. Pure and total: it never raises."""
    if status is None:
        return CodegenPhase.RUNNING
    return _PHASES.get(status.strip().upper(), CodegenPhase.RUNNING)
