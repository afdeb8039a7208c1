"""The endpoints the fake serves, with the paths, parameters and body schemas (their names
too) of Codegen's OpenAPI document; the route names are the operations the log shows."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from tests.fakes.codegen.api import caller, codegen_of, member
from tests.fakes.codegen.errors import NO_REPOS, allowance_spent, documented, run_not_found
from tests.fakes.codegen.payloads import (
    logs_json,
    organization_json,
    page_json,
    run_json,
    user_json,
)
from tests.fakes.codegen.state import Run

router = APIRouter()
Authorization = Annotated[Any, Header()]  # the document gives this header no type
Skip = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=100)]
SourceType = Literal[
    "LOCAL",
    "SLACK",
    "GITHUB",
    "GITHUB_CHECK_SUITE",
    "GITHUB_PR_REVIEW",
    "LINEAR",
    "API",
    "CHAT",
    "JIRA",
    "CLICKUP",
    "MONDAY",
    "SETUP_COMMANDS",
]


class CreateAgentRunInput(BaseModel):
    prompt: str
    images: list[str] | None = None
    metadata: dict[str, Any] | None = None
    repo_id: int | None = None
    model: str | None = None
    agent_type: Literal["codegen", "claude_code"] | None = None


class ResumeAgentRunInput(BaseModel):
    agent_run_id: int
    prompt: str
    images: list[str] | None = None


class StopAgentRunInput(BaseModel):
    agent_run_id: int
    before_card_order_id: str | None = None
    after_card_order_id: str | None = None


def _run(request: Request, org_id: int, run_id: int) -> Run:
    run = codegen_of(request).state.runs.get(run_id)
    if run is None or run.organization_id != org_id:
        raise run_not_found()
    return run


@router.get("/v1/users/me", name="me")
async def get_current_user_info(request: Request, authorization: Authorization = None) -> Response:
    return JSONResponse(user_json(caller(request, "me", authorization)))


@router.get("/v1/organizations", name="organizations")
async def get_organizations(
    request: Request, skip: Skip = 0, limit: Limit = 100, authorization: Authorization = None
) -> Response:
    account = caller(request, "organizations", authorization)
    organizations = codegen_of(request).state.organizations.values()
    mine = [organization_json(o) for o in organizations if account.id in o.members]
    return JSONResponse(page_json(mine[skip : skip + limit], len(mine), skip, limit))


@router.post("/v1/organizations/{org_id}/agent/run", name="create_run")
async def create_agent_run(
    request: Request, org_id: int, body: CreateAgentRunInput, authorization: Authorization = None
) -> Response:
    seat = member(request, "create_run", authorization, org_id)
    organization = seat.organization
    allowance = organization.run_allowance
    if allowance is not None and organization.runs_created >= allowance:
        raise allowance_spent()
    if not organization.repositories:
        raise documented(404, NO_REPOS)
    if body.repo_id is None:
        repository = next(iter(organization.repositories.values()))
    elif body.repo_id in organization.repositories:
        repository = organization.repositories[body.repo_id]
    else:
        # Not in the document: the NoReposFound shape, naming the repository.
        raise documented(404, f"Repository {body.repo_id} not found in the organization.")
    run = codegen_of(request).create_run(
        organization,
        seat.account,
        prompt=body.prompt,
        repository=repository,
        model=body.model,
        agent_type=body.agent_type,
        metadata=body.metadata,
    )
    return JSONResponse(run_json(run))


@router.get("/v1/organizations/{org_id}/agent/run/{agent_run_id}", name="get_run")
async def get_agent_run(
    request: Request, agent_run_id: int, org_id: int, authorization: Authorization = None
) -> Response:
    member(request, "get_run", authorization, org_id)
    run = _run(request, org_id, agent_run_id)
    codegen_of(request).poll(run)
    return JSONResponse(run_json(run))


@router.get("/v1/organizations/{org_id}/agent/runs", name="list_runs")
async def list_agent_runs(
    request: Request,
    org_id: int,
    user_id: int | None = None,
    source_type: SourceType | None = None,
    skip: Skip = 0,
    limit: Limit = 100,
    authorization: Authorization = None,
) -> Response:
    member(request, "list_runs", authorization, org_id)
    runs = [
        run
        for run in codegen_of(request).state.runs.values()
        if run.organization_id == org_id
        and user_id in (None, run.user_id)
        and source_type in (None, run.source_type)
    ]
    runs.sort(key=lambda run: run.id, reverse=True)  # newest first
    items = [run_json(run) for run in runs[skip : skip + limit]]
    return JSONResponse(page_json(items, len(runs), skip, limit))


@router.post("/v1/organizations/{org_id}/agent/run/resume", name="resume")
async def resume_agent_run(
    request: Request, org_id: int, body: ResumeAgentRunInput, authorization: Authorization = None
) -> Response:
    member(request, "resume", authorization, org_id)
    run = _run(request, org_id, body.agent_run_id)
    codegen_of(request).resume(run, body.prompt)
    return JSONResponse(run_json(run))


@router.post("/v1/organizations/{org_id}/agent/run/ban", name="ban")
async def ban_all_checks_for_agent_run(
    request: Request, org_id: int, body: StopAgentRunInput, authorization: Authorization = None
) -> Response:
    member(request, "ban", authorization, org_id)
    run = _run(request, org_id, body.agent_run_id)
    stopped = codegen_of(request).ban(run)
    # The document gives this answer no schema.
    return JSONResponse({"message": f"Banned all checks; {stopped} agent(s) stopped."})


@router.get("/v1/alpha/organizations/{org_id}/agent/run/{agent_run_id}/logs", name="logs")
async def get_agent_run_logs(
    request: Request,
    agent_run_id: int,
    org_id: int,
    skip: Skip = 0,
    limit: Limit = 100,
    reverse: bool = False,
    authorization: Authorization = None,
) -> Response:
    member(request, "logs", authorization, org_id)
    run = _run(request, org_id, agent_run_id)
    codegen_of(request).poll(run)
    entries = list(reversed(run.logs)) if reverse else run.logs
    return JSONResponse(logs_json(run, entries[skip : skip + limit], skip, limit))
