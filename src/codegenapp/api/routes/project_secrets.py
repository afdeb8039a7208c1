"""/api/v1/projects/{project_id}/secrets: write-only values, listed by name."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from codegenapp.api.deps import SessionDep
from codegenapp.api.errors import CONFLICT, NOT_FOUND
from codegenapp.api.params import IdPath
from codegenapp.api.schemas import Page
from codegenapp.api.schemas.project_secrets import ProjectSecretCreate, ProjectSecretRead
from codegenapp.db.queries import project_secrets, projects
from codegenapp.domain.project_settings import ENV_NAME, MAX_ENV_NAME_LENGTH
from codegenapp.errors import NotFound
from codegenapp.flows import project_secrets as secret_flows

router = APIRouter(prefix="/projects/{project_id}/secrets", tags=["project secrets"])
NamePath = Annotated[str, Path(max_length=MAX_ENV_NAME_LENGTH, pattern=ENV_NAME.pattern)]


@router.post(
    "",
    status_code=201,
    responses={
        **NOT_FOUND,
        **CONFLICT,
        200: {"model": ProjectSecretRead, "description": "An existing secret was replaced."},
    },
)
async def set_secret(
    project_id: IdPath, body: ProjectSecretCreate, response: Response
) -> ProjectSecretRead:
    """Create the secret (201), or replace the value of the one with that name (200). The
    project's commands get it as an environment variable; every log masks it."""
    row, created = await secret_flows.set_secret(project_id, name=body.name, value=body.value)
    if not created:
        response.status_code = 200
    return ProjectSecretRead.of(row)


@router.get("", responses=NOT_FOUND)
async def list_secrets(project_id: IdPath, session: SessionDep) -> Page[ProjectSecretRead]:
    """Names and times only: a value is never returned."""
    if await projects.get_project(session, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    rows = await project_secrets.list_secrets(session, project_id)
    return Page(items=[ProjectSecretRead.of(row) for row in rows], total=len(rows))


@router.delete("/{name}", status_code=204, responses=NOT_FOUND)
async def delete_secret(project_id: IdPath, name: NamePath) -> Response:
    await secret_flows.delete_secret(project_id, name)
    return Response(status_code=204)
