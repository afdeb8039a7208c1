"""The sweep that catches what webhooks lost: now and then, every GitHub project's open pull
requests are listed (a conditional request: an unchanged list costs GitHub's rate limit
nothing) and each head that has no validation is validated, as if its webhook had come. The
same pass launches deliveries that were stored but never launched."""

import asyncio
import logging
from datetime import timedelta

from codegenapp.db.queries import projects
from codegenapp.db.tables import ProjectRow
from codegenapp.domain.repositories import ForgeKind
from codegenapp.errors import CodegenAppError
from codegenapp.flows import forge_events, webhooks
from codegenapp.flows import pull_request_heads as heads
from codegenapp.flows.runtime import current

log = logging.getLogger(__name__)
# A delivery stored this long ago and still waiting lost its launch (its process died between
# the answer and the launch, and no restart came to repair it).
STRANDED_AFTER = timedelta(minutes=1)


async def sweep_forever(interval_sec: float) -> None:
    """Sweep every `interval_sec` until cancelled; a failed sweep is logged, not fatal."""
    while True:
        await asyncio.sleep(interval_sec)
        try:
            await sweep_once()
        except Exception:
            log.exception("the sweep of open pull requests failed; trying again later")


async def sweep_once() -> list[str]:
    """One pass over every GitHub project; what it did, one line per project that had news."""
    await webhooks.launch_unprocessed(older_than=STRANDED_AFTER)
    async with current().database.read() as session:
        swept = await projects.projects_of_forge(session, ForgeKind.GITHUB)
    notes = []
    for project in swept:
        try:
            note = await _sweep(project)
        except CodegenAppError as error:  # one unreachable repository stops nothing else
            log.warning("could not list the pull requests of %s: %s", project.repository, error)
            continue
        if note:
            notes.append(f"{project.name}: {note}")
    return notes


async def _sweep(project: ProjectRow) -> str:
    forge = current().drivers.forge(projects.forge_of(project))
    plan = heads.Plan("")
    for change in await forge.list_open_change_requests(project.repository):
        found = await forge_events.on_pull_request(project, heads.as_event(project, change))
        if found.queued:  # only news: a head that has its validation says nothing
            plan += found
    await forge_events.carry_out(plan)
    return plan.note
