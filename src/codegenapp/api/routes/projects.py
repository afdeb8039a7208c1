"""/api/v1/projects"""

from fastapi import APIRouter, Response

from codegenapp.api.deps import SessionDep
from codegenapp.api.errors import CONFLICT, FORGE_FAILED, NOT_FOUND
from codegenapp.api.params import IdempotencyKey, IdPath, Offset, PageLimit
from codegenapp.api.schemas import Page
from codegenapp.api.schemas.projects import (
    ProjectCreate,
    ProjectRead,
    ProjectStatsRead,
    ProjectUpdate,
)
from codegenapp.db.queries import project_stats, projects
from codegenapp.domain.idempotency import IdempotentRequest
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.errors import NotFound
from codegenapp.flows import projects as project_flows

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("")
async def list_projects(
    session: SessionDep, limit: PageLimit = 50, offset: Offset = 0
) -> Page[ProjectRead]:
    rows, total = await projects.list_projects(session, limit=limit, offset=offset)
    return Page(items=[ProjectRead.of(row) for row in rows], total=total)


@router.post("", status_code=201, responses={**CONFLICT, **FORGE_FAILED})
async def create_project(
    body: ProjectCreate, idempotency_key: IdempotencyKey = None
) -> ProjectRead:
    fingerprinted = body.model_dump(mode="json")
    request = IdempotentRequest.of(idempotency_key, fingerprinted) if idempotency_key else None
    row = await project_flows.create_project(
        request=request,
        name=body.name,
        forge=body.forge,
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


@router.get("/{project_id}", responses=NOT_FOUND)
async def get_project(project_id: IdPath, session: SessionDep) -> ProjectRead:
    row = await projects.get_project(session, project_id)
    if row is None:
        raise NotFound(f"project {project_id} does not exist")
    return ProjectRead.of(row)


@router.get("/{project_id}/stats", responses=NOT_FOUND)
async def get_project_stats(project_id: IdPath, session: SessionDep) -> ProjectStatsRead:
    if await projects.get_project(session, project_id) is None:
        raise NotFound(f"project {project_id} does not exist")
    return ProjectStatsRead.of(project_id, await project_stats.project_stats(session, project_id))


@router.put("/{project_id}", responses={**NOT_FOUND, **CONFLICT, **FORGE_FAILED})
async def update_project(project_id: IdPath, body: ProjectUpdate) -> ProjectRead:
    row = await project_flows.update_project(
        project_id,
        name=body.name,
        forge=body.forge,
        repository=body.repository,
        default_branch=body.default_branch,
        agent=body.agent,
        deployment=body.deployment_settings,
        validation=body.validation_settings,
        notification=body.notification_settings,
    )
    return ProjectRead.of(row)


@router.delete("/{project_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
async def delete_project(project_id: IdPath) -> Response:
    await project_flows.delete_project(project_id)
    return Response(status_code=204)
