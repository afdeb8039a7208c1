"""Typed FastAPI dependencies: the runtime, a read session, the access-token check and the
caller's own token."""

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.api.edge import AUTHENTICATED, bearer_token
from codegenapp.db.queries import tokens
from codegenapp.db.tables import ApiTokenRow
from codegenapp.errors import Unauthorized
from codegenapp.flows.runtime import Runtime

# Documents the scheme in the OpenAPI document; `Gate` (api/edge.py) does the checking.
_bearer = HTTPBearer(auto_error=False, description="The access token printed at first start.")
KNOWN_TOKEN_TTL_SEC = 30.0


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.database.read() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class TokenCheck:
    """Whether a token is one of ours. A token seen valid is remembered for a short while, so
    that a storm of requests (or of dashboards reconnecting) does not become a storm of
    database reads; tokens are never revoked yet, so this cannot let a dead one in."""

    def __init__(self) -> None:
        self._known: dict[str, float] = {}

    async def __call__(self, runtime: Runtime, token: str | None) -> bool:
        if not token:
            return False
        key = tokens.digest(token)
        now = time.monotonic()
        if self._known.get(key, 0.0) > now:
            return True
        async with runtime.database.read() as session:
            valid = await tokens.find_token(session, token) is not None
        if valid:
            if len(self._known) > 1000:
                self._known.clear()
            self._known[key] = now + KNOWN_TOKEN_TTL_SEC
        return valid


async def require_token(
    request: Request, _credentials: Annotated[object, Depends(_bearer)]
) -> None:
    """Every protected route depends on this: `Gate` has checked the token already, and says
    so in the scope. A route reached some other way is refused, never left open."""
    if not request.scope.get(AUTHENTICATED):
        raise Unauthorized("a valid access token is required: 'Authorization: Bearer <token>'")


async def current_token(request: Request, session: SessionDep) -> ApiTokenRow:
    """The stored token the request was authenticated with; `Unauthorized` when there is none
    (a route reached without `Gate` is refused, as in `require_token`)."""
    token = bearer_token(request.scope) if request.scope.get(AUTHENTICATED) else None
    row = await tokens.find_token(session, token) if token else None
    if row is None:
        raise Unauthorized("a valid access token is required: 'Authorization: Bearer <token>'")
    return row


CurrentToken = Annotated[ApiTokenRow, Depends(current_token)]
