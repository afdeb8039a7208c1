"""What every HTTP request passes before any route sees it, and every answer gets on its way out.

`Gate`: the access token is checked first, from the headers alone, so an anonymous caller
never costs us a body read or a parse (and malformed JSON without a token is a 401, not a
422); then the body is capped while it is read, so a 100 MB upload is refused after its first
megabyte instead of being buffered. `SecurityHeaders`: the browser is told to run only our
own scripts, connect only to us, never frame us and never send our URLs (with their tokens)
to anyone else.
"""

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qs

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codegenapp.api.errors import error_response

Authenticate = Callable[[Scope, str | None], Awaitable[bool]]
IsOpen = Callable[[str, str], bool]
AUTHENTICATED = "codegenapp.authenticated"
"""Set in the scope once `Gate` has accepted the token; `require_token` reads it."""
TOKEN_IN_QUERY = ("/docs",)
"""Pages a browser opens by address, where no header can carry the token (`?token=`)."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or of `?token=` on the pages
    that accept it there."""
    authorization = _header(scope, b"authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None
    if scope["path"] in TOKEN_IN_QUERY:
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        return next(iter(query.get("token", [])), None)
    return None


class BodyTooLarge(HTTPException):
    """Raised from inside a route's body read; FastAPI lets an HTTPException through as is."""

    def __init__(self, limit: int, whose: str) -> None:
        super().__init__(status_code=413, detail=too_large(limit, whose))


SERVER_LIMIT = "the server's limit (setting CODEGENAPP_MAX_BODY_BYTES)"


def too_large(limit: int, whose: str = SERVER_LIMIT) -> str:
    return f"the request body is larger than {limit} bytes, {whose}"


class Gate:
    """Authenticate, then cap the body. Open paths (`is_open(method, path)`) skip the token."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Authenticate,
        is_open: IsOpen,
        max_body_bytes: int,
        body_limits: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        """`body_limits`: paths whose bodies are capped otherwise than at `max_body_bytes`
        (a forge's webhooks, capped where the forge caps them), with whose limit it is."""
        self.app, self.authenticate, self.is_open = app, authenticate, is_open
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.is_open(scope["method"], scope["path"]):
            if not await self.authenticate(scope, bearer_token(scope)):
                response = error_response(
                    401,
                    "a valid access token is required: 'Authorization: Bearer <token>'",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
            scope[AUTHENTICATED] = True
        limit, whose = self.body_limits.get(scope["path"], (self.max_body_bytes, SERVER_LIMIT))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await error_response(413, too_large(limit, whose))(scope, receive, send)
            return
        await self.app(scope, self._capped(receive, limit, whose), send)

    def _capped(self, receive: Receive, limit: int, whose: str) -> Receive:
        # Chunked bodies say no length up front: count what arrives.
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, whose)
            return message

        return counted


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", [])}
                extra = [(key, value) for key, value in SECURITY_HEADERS if key not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
