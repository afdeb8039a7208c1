"""/api/v1/agent-runs"""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.api.deps import RuntimeDep, SessionDep
from codegenapp.api.errors import CONFLICT, NOT_FOUND, OVER_BUDGET
from codegenapp.api.params import IdempotencyKey, IdFilter, IdPath, Offset, PageLimit
from codegenapp.api.schemas import Page
from codegenapp.api.schemas.agent_runs import (
    AgentInteractionPage,
    AgentInteractionRead,
    AgentRunCreate,
    AgentRunRead,
    ContinueRequest,
    PlanResponse,
    UsageTotalsRead,
)
from codegenapp.db.queries import agent_runs, interactions, pull_requests, validations
from codegenapp.db.tables import AgentRunRow
from codegenapp.domain.idempotency import IdempotentRequest
from codegenapp.domain.states import AgentRunStatus
from codegenapp.flows import actions

router = APIRouter(prefix="/agent-runs", tags=["agent runs"])


async def _read(session: AsyncSession, row: AgentRunRow) -> AgentRunRead:
    pr = (
        await pull_requests.get_pull_request(session, row.pull_request_id)
        if row.pull_request_id
        else None
    )
    ids = await validations.validation_ids_of_run(session, row.id)
    return AgentRunRead.of(row, pull_request=pr, validation_ids=ids)


async def _read_fresh(runtime: RuntimeDep, run_id: int) -> AgentRunRead:
    async with runtime.database.read() as session:
        return await _read(session, await agent_runs.require_run(session, run_id))


@router.post("", status_code=201, responses={**NOT_FOUND, **OVER_BUDGET})
async def start_run(
    body: AgentRunCreate, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> AgentRunRead:
    request = IdempotentRequest.of(idempotency_key, body.model_dump()) if idempotency_key else None
    run = await actions.start_run(project_id=body.project_id, goal=body.goal, request=request)
    return await _read_fresh(runtime, run.id)


@router.get("")
async def list_runs(
    session: SessionDep,
    project_id: IdFilter = None,
    status: AgentRunStatus | None = None,
    limit: PageLimit = 50,
    offset: Offset = 0,
) -> Page[AgentRunRead]:
    rows, total = await agent_runs.list_runs(
        session,
        project_id=project_id,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return Page(items=[await _read(session, row) for row in rows], total=total)


@router.get("/{run_id}", responses=NOT_FOUND)
async def get_run(run_id: IdPath, session: SessionDep) -> AgentRunRead:
    return await _read(session, await agent_runs.require_run(session, run_id))


@router.get("/{run_id}/interactions", responses=NOT_FOUND)
async def list_interactions(
    run_id: IdPath, session: SessionDep, limit: PageLimit = 50, offset: Offset = 0
) -> AgentInteractionPage:
    """Every turn of the run, oldest first: what was sent to the agent, what it answered and
    what it used (when it said); and the run's usage totals."""
    await agent_runs.require_run(session, run_id)
    rows, total = await interactions.list_interactions(session, run_id, limit=limit, offset=offset)
    totals = await interactions.usage_totals(session, run_id)
    return AgentInteractionPage(
        items=[AgentInteractionRead.of(row) for row in rows],
        total=total,
        usage_totals=UsageTotalsRead.of(totals),
    )


@router.post("/{run_id}/continue", status_code=202, responses={**NOT_FOUND, **CONFLICT})
async def continue_run(run_id: IdPath, body: ContinueRequest, runtime: RuntimeDep) -> AgentRunRead:
    await actions.continue_run(run_id, message=body.message)
    return await _read_fresh(runtime, run_id)


@router.post("/{run_id}/plan-response", status_code=202, responses={**NOT_FOUND, **CONFLICT})
async def plan_response(run_id: IdPath, body: PlanResponse, runtime: RuntimeDep) -> AgentRunRead:
    await actions.answer_plan(run_id, action=body.action, text=body.text)
    return await _read_fresh(runtime, run_id)


@router.post("/{run_id}/cancel", status_code=202, responses={**NOT_FOUND, **CONFLICT})
async def cancel_run(run_id: IdPath, runtime: RuntimeDep) -> AgentRunRead:
    await actions.cancel_run(run_id)
    return await _read_fresh(runtime, run_id)


@router.post("/{run_id}/approve-change", status_code=202, responses={**NOT_FOUND, **CONFLICT})
async def approve_change(run_id: IdPath, runtime: RuntimeDep) -> AgentRunRead:
    """Approve the change the run holds because it bends the gate (`held_change`): the run
    validates it next. 409 unless the run is `waiting_approval`; to refuse the change instead,
    cancel the run."""
    await actions.approve_change(run_id)
    return await _read_fresh(runtime, run_id)
