"""/api/v1/validations"""

import asyncio
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.api.deps import RuntimeDep, SessionDep
from codegenapp.api.errors import CONFLICT, FORGE_FAILED, NOT_FOUND
from codegenapp.api.params import IdFilter, IdPath, Offset, PageLimit
from codegenapp.api.schemas import Page
from codegenapp.api.schemas.validations import ValidationRead
from codegenapp.artifacts import list_artifacts, read_artifact
from codegenapp.db.queries import pull_requests, validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.artifacts import MAX_NAME_LENGTH, MEDIA_TYPES, NAME_PATTERN, NAME_RULE
from codegenapp.domain.states import StepName, ValidationKind, ValidationStatus
from codegenapp.errors import NotFound
from codegenapp.flows import actions

router = APIRouter(prefix="/validations", tags=["validations"])
ArtifactName = Annotated[
    str, Path(max_length=MAX_NAME_LENGTH, pattern=f"^{NAME_PATTERN}$", description=NAME_RULE)
]


@router.get("")
async def list_validations(
    session: SessionDep,
    runtime: RuntimeDep,
    project_id: IdFilter = None,
    agent_run_id: IdFilter = None,
    status: ValidationStatus | None = None,
    kind: ValidationKind | None = None,
    limit: PageLimit = 50,
    offset: Offset = 0,
) -> Page[ValidationRead]:
    rows, total = await validations.list_validations(
        session,
        project_id=project_id,
        agent_run_id=agent_run_id,
        status=status.value if status else None,
        kind=kind.value if kind else None,
        limit=limit,
        offset=offset,
    )
    root = runtime.settings.artifacts_root
    return Page(items=[await _read(session, row, root) for row in rows], total=total)


async def _read(
    session: AsyncSession, row: ValidationRow, artifacts_root: FilePath
) -> ValidationRead:
    steps = await validations.list_steps(session, row.id)
    pr = row.pull_request_id and await pull_requests.get_pull_request(session, row.pull_request_id)
    kept = await asyncio.to_thread(list_artifacts, artifacts_root, row.id)
    return ValidationRead.of(row, steps, pr or None, kept)


@router.get("/{validation_id}", responses=NOT_FOUND)
async def get_validation(
    validation_id: IdPath, session: SessionDep, runtime: RuntimeDep
) -> ValidationRead:
    row = await validations.require_validation(session, validation_id)
    return await _read(session, row, runtime.settings.artifacts_root)


@router.post(
    "/{validation_id}/retry",
    status_code=202,
    responses={**NOT_FOUND, **CONFLICT, **FORGE_FAILED},
)
async def retry_validation(validation_id: IdPath, runtime: RuntimeDep) -> ValidationRead:
    retry = await actions.retry_validation(validation_id)
    async with runtime.database.read() as session:
        row = await validations.require_validation(session, retry.id)
        return await _read(session, row, runtime.settings.artifacts_root)


@router.post("/{validation_id}/merge", responses={**NOT_FOUND, **CONFLICT, **FORGE_FAILED})
async def merge_validation(validation_id: IdPath, runtime: RuntimeDep) -> ValidationRead:
    """Merge the pull request of a passed validation, exactly at the validated head, on a
    person's request (so whatever `auto_merge` says; every required check must have passed).
    409 names why when it is not merged: the validation did not pass, the pull request is not
    open or its head moved, its run is still working on it, or the forge refused (the refusal
    is also recorded on the validation). Its ended agent run then completes."""
    await actions.merge_validation(validation_id)
    async with runtime.database.read() as session:
        row = await validations.require_validation(session, validation_id)
        return await _read(session, row, runtime.settings.artifacts_root)


@router.get(
    "/{validation_id}/steps/{step}/log",
    # Not `response_class=PlainTextResponse`: FastAPI would then document the JSON error
    # answers of this route as text too.
    response_model=None,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "The step's log, masked.",
        },
        **NOT_FOUND,
    },
)
async def step_log(validation_id: IdPath, step: StepName, session: SessionDep) -> PlainTextResponse:
    await validations.require_validation(session, validation_id)
    row = await validations.get_step(session, validation_id, step)
    if row is None:
        raise NotFound(f"validation {validation_id} has no step {step.value}")
    return PlainTextResponse(row.log)


@router.get(
    "/{validation_id}/artifacts/{name}",
    response_model=None,  # the artifact's own type, documented below
    responses={
        200: {
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {}},
                "text/plain": {"schema": {"type": "string"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The artifact: a screenshot (PNG), the findings (JSON), a page's "
            "text, a file a failed command pointed to (text), or a Playwright trace of a "
            "failed browser evaluation (zip; open it with `npx playwright show-trace`; its "
            "page content is not masked), as listed in the validation's `artifacts`.",
        },
        **NOT_FOUND,
    },
)
async def get_artifact(
    validation_id: IdPath, name: ArtifactName, session: SessionDep, runtime: RuntimeDep
) -> Response:
    await validations.require_validation(session, validation_id)
    root = runtime.settings.artifacts_root
    found = await asyncio.to_thread(read_artifact, root, validation_id, name)
    if found is None:
        raise NotFound(f"validation {validation_id} kept no artifact named {name}")
    content, kind = found
    return Response(
        content,
        media_type=MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
