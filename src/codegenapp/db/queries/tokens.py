"""Access tokens, kept only as SHA-256 digests: a leaked database leaks no usable token."""

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.tables import ApiTokenRow, utcnow


def digest(token: str) -> str:
    # surrogatepass: a token read from a query string may hold anything; it must still hash.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def add_token(session: AsyncSession, *, name: str, token: str) -> ApiTokenRow:
    """Store a token; adding the same token again is a no-op."""
    existing = await session.scalar(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == digest(token))
    )
    if existing is not None:
        return existing
    row = ApiTokenRow(name=name, token_hash=digest(token))
    session.add(row)
    await session.flush()
    return row


async def find_token(session: AsyncSession, token: str) -> ApiTokenRow | None:
    """The stored token equal to `token`, compared by digest in constant time."""
    wanted = digest(token)
    row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == wanted))
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return row


async def has_tokens(session: AsyncSession) -> bool:
    return (await session.scalar(select(ApiTokenRow.id).limit(1))) is not None


async def touch(session: AsyncSession, row: ApiTokenRow) -> None:
    row.last_used_at = utcnow()
