"""Webhook deliveries: stored before they are acknowledged, processed once, kept as the record
of what the forge told us. The forge's delivery id is the primary key, so a redelivery (or the
same delivery arriving twice at once) finds the first one instead of starting anything new."""

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import events
from codegenapp.db.tables import WebhookDeliveryRow, utcnow
from codegenapp.domain.events import EventType, JsonObject
from codegenapp.domain.webhooks import DeliveryStatus


async def store_delivery(
    session: AsyncSession,
    *,
    delivery_id: str,
    forge: str,
    event: str,
    action: str | None,
    payload: JsonObject,
    status: DeliveryStatus,
) -> bool:
    """Store a new delivery; False (and nothing written) if one with this id exists. Two
    requests racing with one id: the loser's insert fails on the primary key."""
    if await session.get(WebhookDeliveryRow, delivery_id) is not None:
        return False
    row = WebhookDeliveryRow(
        id=delivery_id,
        forge=forge,
        event=event,
        action=action,
        payload=payload,
        status=status.value,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def get_delivery(session: AsyncSession, delivery_id: str) -> WebhookDeliveryRow | None:
    return await session.get(WebhookDeliveryRow, delivery_id)


async def finish_delivery(
    session: AsyncSession,
    delivery_id: str,
    *,
    status: DeliveryStatus,
    note: str,
    project_id: int | None = None,
) -> None:
    """Record how processing ended (`note`: what was done, or why nothing was), with its
    event; `project_id` when the delivery was about one of ours."""
    row = await session.get(WebhookDeliveryRow, delivery_id)
    if row is None:
        return
    row.status = status.value
    row.error = note
    row.processed_at = utcnow()
    data: JsonObject = {
        "delivery_id": row.id,
        "forge": row.forge,
        "event": row.event,
        "action": row.action,
        "status": row.status,
        "note": note,
    }
    await events.record(session, EventType.WEBHOOK_PROCESSED, project_id=project_id, data=data)


async def unprocessed_deliveries(
    session: AsyncSession, *, older_than: timedelta = timedelta(0)
) -> Sequence[WebhookDeliveryRow]:
    """Deliveries stored but not processed yet (the process died in between), oldest first."""
    return (
        await session.scalars(
            select(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.RECEIVED.value,
                WebhookDeliveryRow.received_at <= utcnow() - older_than,
            )
            .order_by(WebhookDeliveryRow.received_at)
        )
    ).all()
