"""Snapshot: a fresh, isolated work area for this attempt."""

import secrets

from codegenapp.domain.states import StepStatus
from codegenapp.drivers.sandbox import SandboxSpec
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    plain = ctx.settings.deployment_settings.environment_variables
    env = {**plain, **ctx.secrets}
    work_area = ctx.work_root / f"validation-{ctx.validation_id}-{secrets.token_hex(4)}"
    handle = await ctx.sandbox.create(
        SandboxSpec(name=f"validation-{ctx.validation_id}", work_area=work_area, env=env)
    )
    ctx.state.handle = handle
    isolation = "isolated" if ctx.sandbox.isolated else "NOT ISOLATED"
    await log.note(f"sandbox {handle.id} ({ctx.sandbox.name}, {isolation}) at {work_area}")
    if plain:
        await log.note(f"environment: {', '.join(sorted(plain))}")
    if ctx.secrets:
        await log.note(f"secrets (masked in every log): {', '.join(sorted(ctx.secrets))}")
    return StepResult(StepStatus.PASSED, f"{ctx.sandbox.name} sandbox ready ({isolation})")
