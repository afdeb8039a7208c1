"""Idempotency keys: what a POST made, by the key its caller sent. Written in the transaction
that makes the thing, so "made" and "remembered" can never part, not even in a crash."""

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.tables import IdempotencyKeyRow, utcnow
from codegenapp.errors import InvalidInput

KEPT_FOR = timedelta(hours=24)
HEADER = "idempotency-key"


async def remember(
    session: AsyncSession, *, scope: str, key: str, fingerprint: str, resource_id: int
) -> None:
    """Record the key. Two requests racing with one key: the second's flush fails on the
    primary key, and its transaction (with what it made) rolls back. Keys older than
    `KEPT_FOR` are forgotten."""
    await session.execute(
        delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < utcnow() - KEPT_FOR)
    )
    session.add(
        IdempotencyKeyRow(scope=scope, key=key, fingerprint=fingerprint, resource_id=resource_id)
    )
    await session.flush()


async def resource_of(
    session: AsyncSession, *, scope: str, key: str, fingerprint: str
) -> int | None:
    """The id made under `key`, None if the key is new. Raise `InvalidInput` (the header) if
    it came with another body."""
    row = await session.scalar(
        select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
        )
    )
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise InvalidInput(
            HEADER,
            "was already used with another body; use a new key for a new request",
            location="header",
        )
    return row.resource_id
