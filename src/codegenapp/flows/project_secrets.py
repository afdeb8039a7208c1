"""Project secrets: set, list and delete; opened only for the sandbox that runs the project's
commands (as environment variables) and for the masker that keeps them out of every log."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import project_secrets, projects
from codegenapp.db.tables import ProjectRow, ProjectSecretRow
from codegenapp.domain.project_settings import MAX_ENVIRONMENT_BYTES
from codegenapp.domain.secret_box import SecretUnreadable
from codegenapp.errors import Conflict, InvalidInput, NotFound
from codegenapp.flows.runtime import current

MAX_SECRETS = 100
MAX_SECRET_BYTES = MAX_ENVIRONMENT_BYTES // 2
"""Names and values of a project's secrets together: they join its plain variables in the
environment of every command, which must fit the kernel's limit."""


async def set_secret(project_id: int, *, name: str, value: str) -> tuple[ProjectSecretRow, bool]:
    """Create or replace the secret `name`. Returns the row and whether it is new. Raise
    `NotFound`, or `InvalidInput` when the name is a plain variable of the project or the
    project's secrets would no longer fit a process's environment."""
    runtime = current()
    sealed = runtime.secret_box.seal(value)
    async with runtime.database.transaction() as session:
        project = await _require_project(session, project_id)
        plain = projects.settings_of(project).deployment_settings.environment_variables
        if name in plain:
            raise InvalidInput(
                "name",
                f"{name!r} is a plain environment variable of this project; remove it from "
                "deployment_settings.environment_variables first",
            )
        others = {
            row.name: row
            for row in await project_secrets.list_secrets(session, project_id)
            if row.name != name
        }
        if len(others) >= MAX_SECRETS:
            raise InvalidInput("name", f"a project has at most {MAX_SECRETS} secrets")
        size = (
            len(name.encode())
            + len(value.encode())
            + sum(len(row.name.encode()) + len(_open(row).encode()) for row in others.values())
        )
        if size > MAX_SECRET_BYTES:
            raise InvalidInput(
                "value",
                f"the project's secrets would take {size} bytes; at most {MAX_SECRET_BYTES} "
                "fit beside its plain variables in a process's environment",
            )
        return await project_secrets.set_secret(
            session, project_id=project_id, name=name, sealed=sealed
        )


async def delete_secret(project_id: int, name: str) -> None:
    """Raise `NotFound` if the project or its secret does not exist."""
    async with current().database.transaction() as session:
        await _require_project(session, project_id)
        row = await project_secrets.get_secret(session, project_id=project_id, name=name)
        if row is None:
            raise NotFound(f"project {project_id} has no secret {name!r}")
        await project_secrets.delete_secret(session, row)


async def opened_secrets(session: AsyncSession, project_id: int) -> Mapping[str, str]:
    """Every secret of the project, name to value. Raise `Conflict` naming the secret that
    this server's key cannot open (sealed by a server with another CODEGENAPP_SECRET_KEY)."""
    return {row.name: _open(row) for row in await project_secrets.list_secrets(session, project_id)}


def _open(row: ProjectSecretRow) -> str:
    try:
        return current().secret_box.open(row.sealed)
    except SecretUnreadable:
        raise Conflict(
            f"secret {row.name!r} of project {row.project_id} was sealed with another key: "
            "give every server and worker the same CODEGENAPP_SECRET_KEY, or set it again"
        ) from None


async def _require_project(session: AsyncSession, project_id: int) -> ProjectRow:
    project = await projects.get_project(session, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    return project
