"""Typed FastAPI dependencies: the runtime, a read session, and the access-token check."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.db.queries import tokens
from codegenapp.errors import Unauthorized
from codegenapp.flows.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="The access token printed at first start.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.database.read() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def token_is_valid(runtime: Runtime, token: str | None) -> bool:
    if not token:
        return False
    async with runtime.database.read() as session:
        return await tokens.find_token(session, token) is not None


async def require_token(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if not await token_is_valid(runtime, credentials.credentials if credentials else None):
        raise Unauthorized("a valid access token is required: 'Authorization: Bearer <token>'")
