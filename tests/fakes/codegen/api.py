"""The request pipeline: the request log, forced answers, API keys, organization membership,
rate limits, and Codegen's error bodies. The app is FastAPI, as Codegen's own is, so bad
parameters and bodies get the very 422 answers FastAPI gives."""

import json
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tests.fakes.codegen.core import Codegen
from tests.fakes.codegen.errors import CodegenError, no_access, rate_limited, unauthorized
from tests.fakes.codegen.state import Account, Organization
from tests.fakes.codegen.traffic import LoggedRequest


@dataclass(frozen=True, slots=True)
class Member:
    account: Account
    organization: Organization


def codegen_of(request: Request) -> Codegen:
    codegen: Codegen = request.app.state.codegen
    return codegen


def caller(request: Request, operation: str, authorization: str | None) -> Account:
    """The user behind `Authorization: Bearer <key>`, once the request is admitted: a forced
    answer comes first, then 401 for a missing or unknown key, then the rate limit (429)."""
    codegen = codegen_of(request)
    _forced(codegen, operation)
    account = _account(codegen, authorization)
    if not codegen.traffic.admit(operation, f"token {account.token}"):
        raise rate_limited()
    return account


def member(request: Request, operation: str, authorization: str | None, org_id: int) -> Member:
    """As `caller`, for an organization's endpoint: 403 unless the user is a member, and the
    rate limit counts per organization."""
    codegen = codegen_of(request)
    _forced(codegen, operation)
    account = _account(codegen, authorization)
    organization = codegen.state.organizations.get(org_id)
    if organization is None or account.id not in organization.members:
        raise no_access()
    if not codegen.traffic.admit(operation, f"organization {org_id}"):
        raise rate_limited()
    return Member(account, organization)


def _forced(codegen: Codegen, operation: str) -> None:
    error = codegen.traffic.forced_answer(operation)
    if error is not None:
        raise error


def _account(codegen: Codegen, authorization: str | None) -> Account:
    scheme, _, token = (authorization or "").partition(" ")
    account = codegen.state.accounts.get(token.strip()) if scheme.lower() == "bearer" else None
    if account is None:
        raise unauthorized()
    return account


async def render(request: Request, error: Exception) -> Response:
    assert isinstance(error, CodegenError)
    if isinstance(error.body, str):
        return PlainTextResponse(error.body, error.status)
    return JSONResponse(error.body, error.status)


class RequestLog:
    """Logs every request with the operation it reached and the status it got, before the
    answer leaves, so a client never sees an answer the log does not have yet."""

    def __init__(self, app: ASGIApp, codegen: Codegen) -> None:
        self.app = app
        self.codegen = codegen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        chunks: list[bytes] = []

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.codegen.traffic.log.append(
                    _logged(scope, b"".join(chunks), message["status"], arrived)
                )
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except Exception as error:
            self.codegen.problems.append(f"the fake failed on {scope['path']}: {error!r}")
            raise
        await self.codegen.traffic.notify()


def _logged(scope: Scope, raw: bytes, status: int, arrived: float) -> LoggedRequest:
    headers = {name.decode("latin-1").lower(): value.decode() for name, value in scope["headers"]}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    route = scope.get("route")
    return LoggedRequest(
        operation=getattr(route, "name", None),
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode(),
        status=status,
        body=body,
        token=token.strip() if scheme.lower() == "bearer" else None,
        at=arrived,
    )
