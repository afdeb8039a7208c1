"""Doing a POST's work once per idempotency key (see db/queries/idempotency.py)."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import idempotency
from codegenapp.domain.idempotency import IdempotentRequest
from codegenapp.flows.runtime import current

T = TypeVar("T")


async def once(
    request: IdempotentRequest | None,
    *,
    scope: str,
    make: Callable[[AsyncSession], Awaitable[tuple[T, int]]],
    find: Callable[[AsyncSession, int], Awaitable[T]],
) -> tuple[T, bool]:
    """`make(session)` (returning the thing and its id) in one transaction with the key, unless
    the key made something already: then `find(session, id)` it. Returns the thing and whether
    it was made before. Raise `InvalidInput` when the key came with another body."""
    database = current().database
    try:
        async with database.transaction() as session:
            made = await _made(session, request, scope)
            if made is not None:
                return await find(session, made), True
            thing, thing_id = await make(session)
            if request is not None:
                await idempotency.remember(
                    session,
                    scope=scope,
                    key=request.key,
                    fingerprint=request.fingerprint,
                    resource_id=thing_id,
                )
            return thing, False
    except IntegrityError:
        if request is None:
            raise
        # A request with the same key committed first: what it made is the answer. (Any
        # other integrity failure finds no key, and is raised as it was.)
        async with database.read() as session:
            made = await _made(session, request, scope)
            if made is None:
                raise
            return await find(session, made), True


async def _made(session: AsyncSession, request: IdempotentRequest | None, scope: str) -> int | None:
    if request is None:
        return None
    return await idempotency.resource_of(
        session, scope=scope, key=request.key, fingerprint=request.fingerprint
    )
