"""Webhook deliveries from a forge: verified and stored before the forge gets its 2xx,
processed afterwards in a durable workflow of their own.

    receive (signature → headers → JSON → our event → stored) → 2xx → launch → process

The workflow's id is the delivery's, so a redelivery, two copies racing, or the start-up
repair after a crash between "stored" and "launched" all process a delivery once.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from dbos import DBOS, SetWorkflowID

from codegenapp.db.queries import projects, webhook_deliveries
from codegenapp.db.tables import ProjectRow
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.webhooks import DeliveryStatus
from codegenapp.drivers.forge import WebhookDelivery
from codegenapp.drivers.forge.events import (
    BranchPushed,
    ForgeEvent,
    Pinged,
    PullRequestChanged,
    RecheckRequested,
)
from codegenapp.errors import WebhookInvalid
from codegenapp.flows import forge_events
from codegenapp.flows.pull_request_heads import Plan
from codegenapp.flows.runtime import current

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the forge is told: the delivery, and whether it was new and is to be acted on."""

    delivery_id: str
    event: str
    action: str | None
    duplicate: bool
    acted_on: bool  # False: stored and acknowledged only (an event we do not act on)


def workflow_id(delivery_id: str) -> str:
    return f"webhook-{delivery_id}"


async def receive(forge: str, body: bytes, headers: Mapping[str, str]) -> Receipt:
    """Verify and store one delivery; the caller answers 2xx only after this returned, and
    then calls `launch` if `acted_on` and not `duplicate`. Raise `WebhookInvalid` (401 for
    the signature, 400 for the rest, 503 while this forge's webhooks are off) with nothing
    stored; a database error propagates (the forge must get a 5xx, never a 2xx)."""
    reader = current().drivers.webhooks(forge)
    if reader is None:
        raise WebhookInvalid(
            f"webhooks from {forge} are off on this server: set its webhook secret "
            "(GITHUB_WEBHOOK_SECRET) and restart",
            status=503,
        )
    delivery = reader.verify(body, headers)
    event = reader.parse(delivery)
    acted_on = event is not None
    async with current().database.transaction() as session:
        new = await webhook_deliveries.store_delivery(
            session,
            delivery_id=delivery.id,
            forge=forge,
            event=delivery.event,
            action=delivery.action,
            payload=delivery.payload,
            status=DeliveryStatus.RECEIVED if acted_on else DeliveryStatus.IGNORED,
        )
        if new and not acted_on:
            note = f"{_named(delivery)} is not an event this server acts on"
            await webhook_deliveries.finish_delivery(
                session, delivery.id, status=DeliveryStatus.IGNORED, note=note
            )
    return Receipt(delivery.id, delivery.event, delivery.action, not new, acted_on)


async def launch(delivery_id: str) -> None:
    """Start the delivery's workflow (once: its id is fixed)."""
    with SetWorkflowID(workflow_id(delivery_id)):
        await DBOS.start_workflow_async(webhook_flow, delivery_id)


async def launch_unprocessed(*, older_than: timedelta = timedelta(0)) -> int:
    """Launch every delivery stored more than `older_than` ago and never launched (at
    start-up: all of them; later, by the sweep: those a dead process left). Returns how many
    it started."""
    async with current().database.read() as session:
        waiting = await webhook_deliveries.unprocessed_deliveries(session, older_than=older_than)
        ids = [row.id for row in waiting]
    started = 0
    for delivery_id in ids:
        if await DBOS.get_workflow_status_async(workflow_id(delivery_id)) is None:
            await launch(delivery_id)
            started += 1
    return started


@DBOS.workflow(name="webhook")
async def webhook_flow(delivery_id: str) -> None:
    try:
        status, plan = await process(delivery_id)
        await forge_events.carry_out(plan)  # here: DBOS starts workflows from a workflow only
        note = plan.note
    except Exception as error:  # recorded on the delivery: the forge was answered long ago
        log.exception("webhook delivery %s could not be processed", delivery_id)
        status, note = DeliveryStatus.FAILED, f"{type(error).__name__}: {error}"
    await record_outcome(delivery_id, status, note)


@DBOS.step(name="webhook.process")
async def process(delivery_id: str) -> tuple[DeliveryStatus, Plan]:
    """Act on the delivery in our tables; what became of it, and the workflows to start and
    stop."""
    async with current().database.read() as session:
        row = await webhook_deliveries.get_delivery(session, delivery_id)
    if row is None:
        return DeliveryStatus.FAILED, Plan("the stored delivery is gone")
    reader = current().drivers.webhooks(row.forge)
    if reader is None:
        return DeliveryStatus.FAILED, Plan(f"webhooks from {row.forge} were turned off since")
    delivery = WebhookDelivery(row.id, row.event, row.action, row.payload)
    event = reader.parse(delivery)
    if event is None:
        return DeliveryStatus.IGNORED, Plan(
            f"{_named(delivery)} is not an event this server acts on"
        )
    return await _dispatch(row.forge, event)


async def _dispatch(forge: str, event: ForgeEvent) -> tuple[DeliveryStatus, Plan]:
    if isinstance(event, Pinged):
        return DeliveryStatus.PROCESSED, Plan("ping: the webhook reaches this server")
    async with current().database.read() as session:
        found = await projects.projects_on(
            session, forge=ForgeKind(forge), repository=event.repository
        )
    if not found:
        note = f"no project here is {forge} repository {event.repository}"
        return DeliveryStatus.IGNORED, Plan(note)
    plan = Plan("")
    for project in found:
        done = await _act(project, event)
        plan += Plan(f"{project.name}: {done.note}", done.queued, done.stopped, done.baselines)
    return DeliveryStatus.PROCESSED, plan


async def _act(project: ProjectRow, event: ForgeEvent) -> Plan:
    match event:
        case PullRequestChanged():
            return await forge_events.on_pull_request(project, event)
        case BranchPushed():
            return await forge_events.on_push(project, event)
        case RecheckRequested():
            return await forge_events.on_recheck(project, event)
        case Pinged():
            return Plan("ping")


@DBOS.step(name="webhook.record")
async def record_outcome(delivery_id: str, status: DeliveryStatus, note: str) -> None:
    async with current().database.transaction() as session:
        await webhook_deliveries.finish_delivery(session, delivery_id, status=status, note=note)


def _named(delivery: WebhookDelivery) -> str:
    return f"{delivery.event}.{delivery.action}" if delivery.action else delivery.event
