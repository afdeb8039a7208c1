"""Deploy: build, test and audit the code, then start it as the preview service."""

from codegenapp.domain.states import CheckName, CheckStatus, StepStatus
from codegenapp.errors import StepTimedOut
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.command_files import keep_pointed_files
from codegenapp.steps.log import StepLog


def _commands(ctx: StepContext) -> list[tuple[CheckName, str]]:
    deployment, validation = ctx.settings.deployment_settings, ctx.settings.validation_settings
    return [
        (CheckName.BUILD, deployment.build_command),
        (CheckName.TEST, validation.test_command),
        (CheckName.SECURITY, validation.security_command),
    ]


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    handle = ctx.require_handle()
    deployment = ctx.settings.deployment_settings
    checks: dict[CheckName, CheckStatus] = {}
    for check, command in _commands(ctx):
        if not command:
            checks[check] = CheckStatus.SKIPPED
            await log.note(f"{check.value}: no command configured, skipped")
            continue
        await log.note(f"{check.value}: $ {command}")
        section = log.open_section()  # the agent is shown this command's output only
        try:
            result = await ctx.sandbox.exec(
                handle,
                ["sh", "-c", command],
                on_output=log.write,
                timeout=ctx.remaining(),
                env=deployment.build_environment,
                egress=deployment.network == "registries",
            )
        except StepTimedOut:
            checks[check] = CheckStatus.FAILED
            output = log.close_section(section)
            output += await keep_pointed_files(ctx, log, check, output)
            await log.note(f"{check.value}: timed out and was killed")
            summary = f"{check.value} timed out"
            return StepResult(StepStatus.FAILED, summary, checks, check, output=output)
        output = log.close_section(section)
        if result.exit_code != 0:
            output += await keep_pointed_files(ctx, log, check, output)
            checks[check] = CheckStatus.FAILED
            await log.note(f"{check.value}: failed with exit code {result.exit_code}")
            summary = f"{check.value} failed (exit code {result.exit_code})"
            return StepResult(
                StepStatus.FAILED, summary, checks, check, result.exit_code, output=output
            )
        checks[check] = CheckStatus.PASSED
        await log.note(f"{check.value}: passed in {result.duration_s:.2f}s")
    return await _start_service(ctx, log, checks)


async def _start_service(
    ctx: StepContext, log: StepLog, checks: dict[CheckName, CheckStatus]
) -> StepResult:
    deployment = ctx.settings.deployment_settings
    if not deployment.deploy_command:
        checks[CheckName.DEPLOY] = CheckStatus.SKIPPED
        await log.note("deploy: no command configured, skipped")
        return StepResult(StepStatus.PASSED, "built; nothing to deploy", checks)
    await log.note(f"deploy: $ {deployment.deploy_command}   (PORT={deployment.port})")
    ctx.state.service = await ctx.sandbox.start_service(
        ctx.require_handle(),
        ["sh", "-c", deployment.deploy_command],
        port=deployment.port,
        on_output=log.write,
        env=deployment.service_environment,
    )
    checks[CheckName.DEPLOY] = CheckStatus.PASSED
    return StepResult(StepStatus.PASSED, f"deployed on port {deployment.port}", checks)
