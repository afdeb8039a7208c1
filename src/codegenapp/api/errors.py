"""The one place errors become HTTP. Every error answer has one shape, `ErrorBody`:

    {"detail": "deployment_settings.port: Input should be less than or equal to 65535",
     "errors": [{"loc": ["body", "deployment_settings", "port"], "msg": "...", "type": "..."}]}

`detail` is one line a person (or the CLI) can show as it is; `errors` lists each field at
fault (empty when the problem is not a field's). Nothing a caller sent is echoed back raw: a
value may be megabytes long, not a finite number, or not even valid Unicode.
"""

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from codegenapp.domain.agent_settings import AGENT_PROVIDERS
from codegenapp.domain.limits import safe_for_json
from codegenapp.errors import (
    AgentConfigInvalid,
    CodegenAppError,
    Conflict,
    ForgeError,
    InvalidInput,
    MergeRefused,
    NotFound,
    OverBudget,
    RepositoryInvalid,
    Unauthorized,
    WebhookInvalid,
)

log = logging.getLogger(__name__)
_MAX_DETAIL = 2000
_MAX_ERRORS = 20


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """What every 4xx and 5xx answer carries."""

    detail: str
    errors: list[FieldError] = []


Responses = dict[int | str, dict[str, Any]]  # FastAPI's own type for `responses=`


def described(description: str) -> dict[str, Any]:
    """An error answer for `responses=`: the `ErrorBody` shape, with what it means here."""
    return {"model": ErrorBody, "description": description}


UNAUTHORIZED: Responses = {
    401: described("No valid access token (`Authorization: Bearer <token>`).")
}
REFUSED_INPUT: Responses = {
    400: described("The body could not be read as JSON."),
    413: described("The body is larger than the server's limit."),
    422: described("A field is invalid; `errors` names each one and what is accepted."),
}
NOT_FOUND: Responses = {404: described("No such entity.")}
CONFLICT: Responses = {409: described("The entity's state does not allow this.")}
FORGE_FAILED: Responses = {502: described("The repository host failed.")}
OVER_BUDGET: Responses = {
    429: described("The project's agent budget allows no more for now (see Retry-After).")
}
EVERY_ROUTE: Responses = {**UNAUTHORIZED, **REFUSED_INPUT}


def error_response(
    status: int,
    detail: str,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(detail=safe_for_json(detail)[:_MAX_DETAIL], errors=list(errors))
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def field_error(loc: Iterable[object], msg: str, kind: str = "value_error") -> FieldError:
    parts = [part if isinstance(part, int) else safe_for_json(str(part))[:200] for part in loc]
    # Pydantic says "Value error, must be …": the reader wants "must be …".
    message = safe_for_json(msg.removeprefix("Value error, "))[:_MAX_DETAIL]
    return FieldError(loc=parts, msg=message, type=kind)


def _one_line(errors: list[FieldError]) -> str:
    def where(error: FieldError) -> str:
        # "body.name" reads as "name"; a query or header parameter keeps its kind.
        parts = error.loc[1:] if error.loc[:1] == ["body"] else error.loc
        return ".".join(str(part) for part in parts) or "body"

    said = "; ".join(f"{where(error)}: {error.msg}" for error in errors[:3])
    more = len(errors) - 3
    return f"{said} (and {more} more)" if more > 0 else said


async def _our_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, InvalidInput | RepositoryInvalid | AgentConfigInvalid):
        location = error.location if isinstance(error, InvalidInput) else "body"
        errors = [field_error([location, *error.field.split(".")], error.message)]
        return error_response(422, _one_line(errors), errors)
    if isinstance(error, NotFound):
        return error_response(404, str(error))
    if isinstance(error, OverBudget):
        return error_response(429, str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, Conflict | MergeRefused):
        return error_response(409, str(error))
    if isinstance(error, Unauthorized):
        return error_response(401, str(error), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(error, WebhookInvalid):
        return error_response(error.status, str(error))
    if isinstance(error, ForgeError):
        return error_response(502, f"repository host: {error}")
    return await _unexpected(request, error)


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems: list[Any] = list(error.errors())
    errors = [
        field_error(
            _untagged(problem.get("loc", ())), str(problem.get("msg", "")), str(problem.get("type"))
        )
        for problem in problems[:_MAX_ERRORS]
    ]
    if not errors:
        errors = [field_error(["body"], "is invalid")]
    return error_response(422, _one_line(errors), errors)


def _untagged(loc: Iterable[object]) -> list[object]:
    """The field as the body names it: pydantic puts the chosen member of a tagged union in
    the location ("agent.scripted.recipe"), which no body ever says ("agent.recipe")."""
    parts = list(loc)
    return [
        part
        for index, part in enumerate(parts)
        if not (index and parts[index - 1] == "agent" and part in AGENT_PROVIDERS)
    ]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    # Starlette names the methods of the first route whose path matched; a path served by
    # several routes (GET and POST on /projects) takes the methods of all of them.
    if error.status_code == 405 and (allowed := allowed_methods(request.app, request.url.path)):
        headers["Allow"] = ", ".join(allowed)
    detail = error.detail if isinstance(error.detail, str) else "the request was refused"
    return error_response(error.status_code, detail, headers=headers)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document lists for `path`: the contract clients read."""
    index: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_index", None)
    if index is None:
        index = [
            (re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))), list(ops))
            for template, ops in app.openapi().get("paths", {}).items()
        ]
        app.state.allow_index = index
    for pattern, operations in index:
        if pattern.fullmatch(path):
            methods = {operation.upper() for operation in operations}
            return sorted(methods | ({"HEAD"} if "GET" in methods else set()))
    return []


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    reference = uuid.uuid4().hex[:12]
    log.error(
        "internal error %s on %s %s", reference, request.method, request.url.path, exc_info=error
    )
    return error_response(500, f"internal error (reference {reference}); see the server log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CodegenAppError, _our_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
