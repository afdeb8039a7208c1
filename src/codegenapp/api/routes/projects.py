"""/api/v1/projects"""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from codegenapp.api.deps import SessionDep
from codegenapp.api.schemas import Page
from codegenapp.api.schemas.projects import (
    ProjectCreate,
    ProjectRead,
    ProjectStatsRead,
    ProjectUpdate,
)
from codegenapp.db.queries import project_stats, projects
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.errors import NotFound
from codegenapp.flows import projects as project_flows

router = APIRouter(prefix="/projects", tags=["projects"])
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


@router.get("")
async def list_projects(
    session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> Page[ProjectRead]:
    rows, total = await projects.list_projects(session, limit=limit, offset=offset)
    return Page(items=[ProjectRead.of(row) for row in rows], total=total)


@router.post("", status_code=201)
async def create_project(body: ProjectCreate) -> ProjectRead:
    row = await project_flows.create_project(
        name=body.name,
        repository=body.repository,
        default_branch=body.default_branch,
        agent=body.agent,
        settings=ProjectSettings(
            deployment_settings=body.deployment_settings,
            validation_settings=body.validation_settings,
            notification_settings=body.notification_settings,
        ),
    )
    return ProjectRead.of(row)


@router.get("/{project_id}")
async def get_project(project_id: int, session: SessionDep) -> ProjectRead:
    row = await projects.get_project(session, project_id)
    if row is None:
        raise NotFound(f"project {project_id} does not exist")
    return ProjectRead.of(row)


@router.get("/{project_id}/stats")
async def get_project_stats(project_id: int, session: SessionDep) -> ProjectStatsRead:
    if await projects.get_project(session, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    return ProjectStatsRead.of(project_id, await project_stats.project_stats(session, project_id))


@router.put("/{project_id}")
async def update_project(project_id: int, body: ProjectUpdate) -> ProjectRead:
    row = await project_flows.update_project(
        project_id,
        name=body.name,
        repository=body.repository,
        default_branch=body.default_branch,
        agent=body.agent,
        deployment=body.deployment_settings,
        validation=body.validation_settings,
        notification=body.notification_settings,
    )
    return ProjectRead.of(row)


@router.delete("/{project_id}", status_code=204)
async def delete_project(project_id: int) -> Response:
    await project_flows.delete_project(project_id)
    return Response(status_code=204)
