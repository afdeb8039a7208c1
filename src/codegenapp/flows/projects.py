"""Project writes: the repository and the agent settings are checked by their drivers first,
so a project that cannot work is refused at the door, not at its first run."""

from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import agent_runs, projects
from codegenapp.db.tables import ProjectRow
from codegenapp.domain.agent_settings import AgentSettings
from codegenapp.domain.idempotency import IdempotentRequest
from codegenapp.domain.project_settings import (
    DeploymentSettings,
    NotificationSettings,
    ProjectSettings,
    ValidationSettings,
)
from codegenapp.domain.repositories import ForgeKind, github_repository, inferred_forge
from codegenapp.errors import Conflict, InvalidInput, NotFound, SandboxUnavailable
from codegenapp.flows.once import once
from codegenapp.flows.runtime import current
from codegenapp.flows.validation import launch_baseline


def _located(forge: ForgeKind | None, repository: str) -> tuple[ForgeKind, str]:
    """The project's forge (given, or inferred from the repository's form) and its repository
    in the one spelling that forge's names are stored in."""
    chosen = forge or inferred_forge(repository)
    if chosen is ForgeKind.GITHUB:
        try:
            return chosen, github_repository(repository)
        except ValueError as error:
            raise InvalidInput("repository", str(error)) from error
    return chosen, repository


async def _check(
    forge: ForgeKind,
    repository: str,
    default_branch: str,
    agent: AgentSettings,
    deployment: DeploymentSettings | None,
) -> None:
    drivers = current().drivers
    await drivers.forge(forge).check_repository(repository, default_branch=default_branch)
    await drivers.agent(agent).check_settings(agent)
    if deployment is not None and deployment.sandbox is not None:
        try:
            await drivers.check_sandbox(deployment.sandbox)
        except SandboxUnavailable as error:
            raise InvalidInput(
                "deployment_settings.sandbox",
                f"{error}; choose another sandbox, or none for the server's default",
            ) from error


async def create_project(
    *,
    name: str,
    repository: str,
    default_branch: str,
    agent: AgentSettings,
    settings: ProjectSettings,
    forge: ForgeKind | None = None,
    request: IdempotentRequest | None = None,
) -> ProjectRow:
    """Raise `RepositoryInvalid`, `AgentConfigInvalid` or `Conflict` (name taken). With
    `request`, a retry with the same key gets the project the first one made."""
    forge, repository = _located(forge, repository)

    async def make(session: AsyncSession) -> tuple[ProjectRow, int]:
        project = await projects.create_project(
            session,
            name=name,
            forge=forge,
            repository=repository,
            default_branch=default_branch,
            agent=agent,
            settings=settings,
        )
        return project, project.id

    async def find(session: AsyncSession, project_id: int) -> ProjectRow:
        project = await projects.get_project(session, project_id)
        if project is None:
            raise Conflict(
                f"the project created with this idempotency key ({project_id}) was deleted since"
            )
        return project

    await _check(forge, repository, default_branch, agent, settings.deployment_settings)
    project, _ = await once(request, scope="projects", make=make, find=find)
    await launch_baseline(project.id)  # in the background: ready when the first PR fails
    return project


async def update_project(
    project_id: int,
    *,
    name: str | None,
    repository: str | None,
    default_branch: str | None,
    agent: AgentSettings | None,
    deployment: DeploymentSettings | None,
    validation: ValidationSettings | None,
    notification: NotificationSettings | None,
    forge: ForgeKind | None = None,
) -> ProjectRow:
    """Change what is given (a settings section given replaces that section), keep the rest;
    checked like a new project."""
    async with current().database.read() as session:
        project = await projects.get_project(session, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    new_forge, new_repository = _located(
        forge or projects.forge_of(project), repository or project.repository
    )
    new_branch = default_branch or project.default_branch
    new_agent = agent or projects.agent_settings_of(project)
    await _check(new_forge, new_repository, new_branch, new_agent, deployment)
    async with current().database.transaction() as session:
        stored = await projects.get_project(session, project_id)
        if stored is None:
            raise NotFound(f"project {project_id} does not exist")
        updated = await projects.update_project(
            session,
            stored,
            name=name or stored.name,
            forge=new_forge,
            repository=new_repository,
            default_branch=new_branch,
            agent=new_agent,
            settings=_merged(projects.settings_of(stored), deployment, validation, notification),
        )
    # New settings or a new base: what the old baseline said no longer holds.
    await launch_baseline(project_id)
    return updated


def _merged(
    stored: ProjectSettings,
    deployment: DeploymentSettings | None,
    validation: ValidationSettings | None,
    notification: NotificationSettings | None,
) -> ProjectSettings:
    return ProjectSettings(
        deployment_settings=deployment or stored.deployment_settings,
        validation_settings=validation or stored.validation_settings,
        notification_settings=notification or stored.notification_settings,
    )


async def delete_project(project_id: int) -> None:
    """Raise `Conflict` while one of its runs is still going: cancel it first."""
    async with current().database.transaction() as session:
        project = await projects.get_project(session, project_id)
        if project is None:
            raise NotFound(f"project {project_id} does not exist")
        if await agent_runs.has_active_runs(session, project_id):
            raise Conflict(f"project {project_id} has agent runs in progress; cancel them first")
        await projects.delete_project(session, project)
