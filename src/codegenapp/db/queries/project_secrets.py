"""Project secrets: the one write path (sealed values in, events with names only), and reads."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.tables import ProjectSecretRow, utcnow
from codegenapp.domain.events import EventType


async def set_secret(
    session: AsyncSession, *, project_id: int, name: str, sealed: str
) -> tuple[ProjectSecretRow, bool]:
    """Store `sealed` as the project's secret `name`, replacing one of that name. Returns the
    row and whether it is new."""
    row = await get_secret(session, project_id=project_id, name=name)
    created = row is None
    if row is None:
        row = ProjectSecretRow(project_id=project_id, name=name, sealed=sealed)
        session.add(row)
    else:
        row.sealed = sealed
        row.updated_at = utcnow()
    await session.flush()
    await events.record(
        session,
        EventType.PROJECT_SECRET_SET,
        project_id=project_id,
        data={"name": name, "created": created},
    )
    return row, created


async def delete_secret(session: AsyncSession, row: ProjectSecretRow) -> None:
    await session.delete(row)
    await events.record(
        session,
        EventType.PROJECT_SECRET_DELETED,
        project_id=row.project_id,
        data={"name": row.name},
    )


async def get_secret(
    session: AsyncSession, *, project_id: int, name: str
) -> ProjectSecretRow | None:
    return await session.scalar(
        select(ProjectSecretRow).where(
            ProjectSecretRow.project_id == project_id, ProjectSecretRow.name == name
        )
    )


async def list_secrets(session: AsyncSession, project_id: int) -> list[ProjectSecretRow]:
    """Every secret of the project, by name."""
    rows = await session.scalars(
        select(ProjectSecretRow)
        .where(ProjectSecretRow.project_id == project_id)
        .order_by(ProjectSecretRow.name)
    )
    return list(rows)
