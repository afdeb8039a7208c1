"""Snapshot: a fresh, isolated work area for this attempt."""

import secrets

from codegenapp.domain.states import StepStatus
from codegenapp.drivers.sandbox import SandboxSpec
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    env = dict(ctx.settings.deployment_settings.environment_variables)
    work_area = ctx.work_root / f"validation-{ctx.validation_id}-{secrets.token_hex(4)}"
    handle = await ctx.sandbox.create(
        SandboxSpec(name=f"validation-{ctx.validation_id}", work_area=work_area, env=env)
    )
    ctx.state.handle = handle
    isolation = "isolated" if ctx.sandbox.isolated else "NOT ISOLATED"
    await log.note(f"sandbox {handle.id} ({ctx.sandbox.name}, {isolation}) at {work_area}")
    if env:
        await log.note(f"environment: {', '.join(sorted(env))}")
    return StepResult(StepStatus.PASSED, f"{ctx.sandbox.name} sandbox ready ({isolation})")
