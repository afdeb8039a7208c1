"""Start-up repair: a run, a validation or a webhook delivery whose row was written but whose
workflow never started (the process died in between) is started now. Workflow ids are fixed,
so starting one that a recovering workflow is about to start too is harmless. Workflows that
did start are DBOS's to recover."""

from dbos import DBOS
from sqlalchemy import select

from codegenapp.db.tables import AgentRunRow, ValidationRow
from codegenapp.domain.states import AgentRunStatus, ValidationStatus
from codegenapp.flows import webhooks
from codegenapp.flows.actions import launch_segment, launch_validation
from codegenapp.flows.agent_run import run_workflow_id
from codegenapp.flows.runtime import current
from codegenapp.flows.validation import workflow_id


async def start_orphans() -> int:
    """Returns how many workflows it started."""
    async with current().database.read() as session:
        runs = (
            await session.scalars(
                select(AgentRunRow).where(AgentRunRow.status == AgentRunStatus.PENDING.value)
            )
        ).all()
        retries = (
            await session.scalars(
                select(ValidationRow).where(ValidationRow.status == ValidationStatus.QUEUED.value)
            )
        ).all()
    started = 0
    for run in runs:
        if await DBOS.get_workflow_status_async(run_workflow_id(run.id, run.segment)) is None:
            await launch_segment(run.id, run.segment)
            started += 1
    for validation in retries:
        if await DBOS.get_workflow_status_async(workflow_id(validation.id)) is None:
            await launch_validation(validation.id)
            started += 1
    return started + await webhooks.launch_unprocessed()
