"""Clone: exactly the pull request's head commit into the work area."""

from pathlib import Path

from codegenapp.domain.states import StepStatus
from codegenapp.drivers.sandbox import SOURCE_DIR
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    handle = ctx.require_handle()
    dest = Path(handle.work_area) / SOURCE_DIR
    if dest.is_dir() and not any(dest.iterdir()):
        dest.rmdir()  # a sandbox may prepare the directory; the snapshot wants to make it
    await log.note(f"fetching {ctx.head_sha} from {ctx.repository}")
    await ctx.forge.fetch_snapshot(ctx.repository, ctx.head_sha, dest)
    return StepResult(StepStatus.PASSED, f"checked out {ctx.head_sha[:12]}")
