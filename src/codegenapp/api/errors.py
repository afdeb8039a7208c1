"""The one place our exception tree becomes HTTP: status, and a body that names the field."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from codegenapp.errors import (
    AgentConfigInvalid,
    CodegenAppError,
    Conflict,
    ForgeError,
    InvalidInput,
    MergeRefused,
    NotFound,
    RepositoryInvalid,
    Unauthorized,
)


def _field_error(field: str, message: str) -> JSONResponse:
    # The same shape as FastAPI's own 422s, so clients read one format.
    location = ["body", *field.split(".")]
    detail = [{"loc": location, "msg": message, "type": "value_error"}]
    return JSONResponse(status_code=422, content={"detail": detail})


async def handle(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, InvalidInput | RepositoryInvalid | AgentConfigInvalid):
        return _field_error(error.field, error.message)
    if isinstance(error, NotFound):
        return JSONResponse(status_code=404, content={"detail": str(error)})
    if isinstance(error, Conflict | MergeRefused):
        return JSONResponse(status_code=409, content={"detail": str(error)})
    if isinstance(error, Unauthorized):
        return JSONResponse(
            status_code=401, content={"detail": str(error)}, headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(error, ForgeError):
        return JSONResponse(status_code=502, content={"detail": f"repository host: {error}"})
    return JSONResponse(status_code=500, content={"detail": f"{type(error).__name__}: {error}"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(CodegenAppError, handle)
