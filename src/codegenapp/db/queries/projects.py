"""Projects: the one write path, and reads."""

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.queries.paging import page
from codegenapp.db.tables import JsonDict, ProjectRow
from codegenapp.domain.agent_settings import AgentSettings
from codegenapp.domain.events import EventType
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.repositories import ForgeKind
from codegenapp.errors import Conflict


def settings_of(project: ProjectRow) -> ProjectSettings:
    """The stored settings, validated again (they were validated on the way in)."""
    return ProjectSettings.model_validate(
        {
            "deployment_settings": project.deployment_settings,
            "validation_settings": project.validation_settings,
            "notification_settings": project.notification_settings,
        }
    )


def forge_of(project: ProjectRow) -> ForgeKind:
    return ForgeKind(project.forge)


_AGENT_SETTINGS: TypeAdapter[AgentSettings] = TypeAdapter(AgentSettings)


def agent_settings_of(project: ProjectRow) -> AgentSettings:
    return _AGENT_SETTINGS.validate_python(project.agent)


def _dump(settings: ProjectSettings) -> dict[str, JsonDict]:
    return settings.model_dump(mode="json")


async def _refuse_duplicate_name(session: AsyncSession, name: str, *, not_id: int = 0) -> None:
    existing = await session.scalar(
        select(ProjectRow.id).where(ProjectRow.name == name, ProjectRow.id != not_id)
    )
    if existing is not None:
        raise Conflict(f"name: a project named {name!r} already exists (id {existing})")


async def create_project(
    session: AsyncSession,
    *,
    name: str,
    repository: str,
    default_branch: str,
    agent: AgentSettings,
    settings: ProjectSettings,
    forge: ForgeKind = ForgeKind.LOCAL,
) -> ProjectRow:
    await _refuse_duplicate_name(session, name)
    project = ProjectRow(
        name=name,
        forge=forge.value,
        repository=repository,
        default_branch=default_branch,
        agent=agent.model_dump(mode="json"),
        **_dump(settings),
    )
    session.add(project)
    await session.flush()
    await events.record(
        session,
        EventType.PROJECT_CREATED,
        project_id=project.id,
        data={"name": name, "forge": forge.value, "repository": repository},
    )
    return project


async def update_project(
    session: AsyncSession,
    project: ProjectRow,
    *,
    name: str,
    forge: ForgeKind,
    repository: str,
    default_branch: str,
    agent: AgentSettings,
    settings: ProjectSettings,
) -> ProjectRow:
    await _refuse_duplicate_name(session, name, not_id=project.id)
    project.name = name
    project.forge = forge.value
    project.repository = repository
    project.default_branch = default_branch
    project.agent = agent.model_dump(mode="json")
    for section, value in _dump(settings).items():
        setattr(project, section, value)
    await session.flush()
    await events.record(
        session, EventType.PROJECT_UPDATED, project_id=project.id, data={"name": name}
    )
    return project


async def delete_project(session: AsyncSession, project: ProjectRow) -> None:
    await events.hold_event_order(session)  # before the delete locks the row: see there
    await session.delete(project)
    await events.record(
        session, EventType.PROJECT_DELETED, project_id=project.id, data={"name": project.name}
    )


async def projects_on(
    session: AsyncSession, *, forge: ForgeKind, repository: str
) -> list[ProjectRow]:
    """The projects whose repository is `repository` on `forge`; GitHub's names are
    case-insensitive, and stored as OWNER/NAME (see `domain/repositories.py`)."""
    found = await session.scalars(
        select(ProjectRow)
        .where(
            ProjectRow.forge == forge.value,
            func.lower(ProjectRow.repository) == repository.lower(),
        )
        .order_by(ProjectRow.id)
    )
    return list(found)


async def projects_of_forge(session: AsyncSession, forge: ForgeKind) -> list[ProjectRow]:
    found = await session.scalars(
        select(ProjectRow).where(ProjectRow.forge == forge.value).order_by(ProjectRow.id)
    )
    return list(found)


async def get_project(
    session: AsyncSession, project_id: int, *, lock: bool = False
) -> ProjectRow | None:
    """With `lock`, the row stays locked until the commit: whatever the caller counts for the
    project (its runs today) cannot change under it."""
    if not lock:
        return await session.get(ProjectRow, project_id)
    await events.hold_event_order(session)  # before the row lock: see there
    return await session.scalar(
        select(ProjectRow)
        .where(ProjectRow.id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def list_projects(
    session: AsyncSession, *, limit: int = 50, offset: int = 0
) -> tuple[list[ProjectRow], int]:
    return await page(
        session, select(ProjectRow).order_by(ProjectRow.id), limit=limit, offset=offset
    )
