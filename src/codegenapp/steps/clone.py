"""Clone: exactly the pull request's head commit, into the sandbox's source directory."""

from functools import partial

from codegenapp.domain.states import StepStatus
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    await log.note(f"fetching {ctx.head_sha} from {ctx.repository}")
    snapshot = partial(ctx.forge.fetch_snapshot, ctx.repository, ctx.head_sha)
    await ctx.sandbox.put_tree(ctx.require_handle(), snapshot)
    return StepResult(StepStatus.PASSED, f"checked out {ctx.head_sha[:12]}")
