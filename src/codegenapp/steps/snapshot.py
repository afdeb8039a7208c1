"""Snapshot: a fresh, isolated sandbox for this attempt, made to the project's settings."""

import hashlib

from codegenapp.domain.network_policy import REGISTRY_HOSTS
from codegenapp.domain.project_settings import DeploymentSettings
from codegenapp.domain.states import StepStatus, ValidationKind
from codegenapp.drivers.sandbox import ResourceLimits, SandboxSpec
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog


def cache_key(project_id: int, repository: str) -> str:
    """The project's dependency cache. Its id alone could name another server's project on a
    Docker daemon they share (and one made again after a delete): its repository too."""
    digest = hashlib.sha256(repository.encode()).hexdigest()[:12]
    return f"project-{project_id}-{digest}"


def sandbox_spec(
    deployment: DeploymentSettings,
    *,
    name: str,
    project_id: int,
    repository: str,
    secrets: dict[str, str],
    trusted: bool = False,
) -> SandboxSpec:
    """What a validation of a project with `deployment` settings runs in; `trusted` code (the
    base branch's) may add to the project's dependency cache."""
    resources = deployment.resources
    registries = deployment.network == "registries"
    return SandboxSpec(
        name=name,
        env={**deployment.environment_variables, **secrets},
        limits=ResourceLimits(
            cpus=resources.cpus,
            memory_mb=resources.memory_mb,
            pids=resources.pids,
            disk_mb=resources.disk_mb,
        ),
        image=deployment.image,
        path_prepend=tuple(deployment.path_prepend),
        allowed_hosts=(*REGISTRY_HOSTS, *deployment.allowed_hosts) if registries else (),
        cache_key=cache_key(project_id, repository),
        cache_writeback=trusted,
    )


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    deployment = ctx.settings.deployment_settings
    spec = sandbox_spec(
        deployment,
        name=f"validation-{ctx.validation_id}",
        project_id=ctx.project_id,
        repository=ctx.repository,
        secrets=dict(ctx.secrets),
        trusted=ctx.kind is ValidationKind.BASELINE,
    )
    handle = await ctx.sandbox.create(spec)
    ctx.state.handle = handle
    isolation = "isolated" if ctx.sandbox.isolated else "NOT ISOLATED"
    await log.note(f"sandbox {handle.id} ({ctx.sandbox.name}, {isolation})")
    if deployment.image and ctx.sandbox.name == "docker":
        await log.note(f"image: {deployment.image}")
    limits = spec.limits
    await log.note(
        f"limits: {limits.cpus:g} CPUs, {limits.memory_mb} MB memory, {limits.pids} processes, "
        f"{limits.disk_mb} MB disk"
    )
    if spec.allowed_hosts:
        extra = f" and {', '.join(deployment.allowed_hosts)}" if deployment.allowed_hosts else ""
        await log.note(f"network for build/test/security: package registries{extra}, by proxy")
    else:
        await log.note("network: none")
    if deployment.environment_variables:
        await log.note(f"environment: {', '.join(sorted(deployment.environment_variables))}")
    if ctx.secrets:
        await log.note(f"secrets (masked in every log): {', '.join(sorted(ctx.secrets))}")
    return StepResult(StepStatus.PASSED, f"{ctx.sandbox.name} sandbox ready ({isolation})")
