"""What a person's retry or merge of an ended run's validation does to that run: a pass
completes it, saying what happened, so that a run never reads "failed, needs a human" over a
pull request that was fixed, validated and merged after all."""

from codegenapp.db.queries import agent_runs, validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.states import AgentRunStatus, ValidationStatus
from codegenapp.flows.runtime import current

# A run still active has its own workflow waiting on its validation: that workflow decides.
# A cancelled run stays cancelled whatever becomes of its pull request.
_ENDED = (AgentRunStatus.FAILED, AgentRunStatus.COMPLETED)


async def settle_ended_run(validation_id: int, *, how: str) -> None:
    """If the validation passed and its run had ended, complete the run with a result that
    says so (`how`: "a retry by hand", "a person's merge request"). A completed run changes
    only when its pull request got merged. Idempotent."""
    async with current().database.transaction() as session:
        validation = await validations.require_validation(session, validation_id)
        if validation.agent_run_id is None or validation.status != ValidationStatus.PASSED:
            return
        run = await agent_runs.get_run(session, validation.agent_run_id)
        if run is None or AgentRunStatus(run.status) not in _ENDED:
            return
        if run.status == AgentRunStatus.COMPLETED and not validation.merged:
            return
        await agent_runs.complete_after_retry(session, run.id, result=_late_result(validation, how))


def _late_result(validation: ValidationRow, how: str) -> str:
    pr = f"pull request #{validation.pr_number}"
    if validation.merged:
        return (
            f"Merged {pr} at {validation.head_sha[:12]} after {how} (validation attempt "
            f"{validation.attempt} passed)."
        )
    return (
        f"Validated {pr} at {validation.head_sha[:12]} after {how} (validation attempt "
        f"{validation.attempt}); not merged: {validation.merge_blocked_reason}"
    )
