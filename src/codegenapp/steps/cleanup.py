"""Cleanup: always runs; kills every process of the attempt and removes its work area."""

from codegenapp.domain.states import StepStatus
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    handle = ctx.state.handle
    if handle is None:
        await log.note("no sandbox was created; nothing to clean up")
        return StepResult(StepStatus.PASSED, "nothing to clean up")
    await ctx.sandbox.destroy(handle)
    ctx.state.handle, ctx.state.service = None, None
    await log.note(f"sandbox {handle.id} destroyed, work area removed")
    return StepResult(StepStatus.PASSED, "sandbox destroyed")
