"""Codegen's error answers: a status and the body its OpenAPI document gives for it.

Documented bodies are `{"message", "status_code"}` with the defaults the document names; a
422 is FastAPI's `{"detail": [{"type", "loc", "msg", "input"}]}`. A 401 is not in the document:
the live API is FastAPI, so it answers `{"detail": ...}` (the CLI's client reads `detail`).
"""

from dataclasses import dataclass

RATE_LIMITED = "Rate limit exceeded. Please try again later."
NO_ACCESS = "You do not have access to this organization."
ALLOWANCE_SPENT = (
    "Alloted agent runs for the current billing plan have been reached. "
    "Please upgrade your plan to continue."
)
RUN_NOT_FOUND = "Agent run not found."
NO_REPOS = "No repos found in the organization. Please add some repos and try again."
USER_NOT_FOUND = "User not found."
UNAUTHORIZED = "Invalid or missing API token"
SERVER_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(slots=True)
class CodegenError(Exception):
    """An answer Codegen gives instead of the resource; raised by handlers, rendered by the
    app. A `str` body is sent as text/plain, as a proxy in front of the API would."""

    status: int
    body: dict[str, object] | str


def documented(status: int, message: str) -> CodegenError:
    return CodegenError(status, {"message": message, "status_code": status})


def unauthorized() -> CodegenError:
    return CodegenError(401, {"detail": UNAUTHORIZED})


def no_access() -> CodegenError:
    return documented(403, NO_ACCESS)


def rate_limited() -> CodegenError:
    # Exactly this body, and no Retry-After header.
    return documented(429, RATE_LIMITED)


def allowance_spent() -> CodegenError:
    return documented(402, ALLOWANCE_SPENT)


def run_not_found() -> CodegenError:
    return documented(404, RUN_NOT_FOUND)


def invalid(loc: list[str | int], message: str, kind: str = "value_error") -> CodegenError:
    problem = {"type": kind, "loc": loc, "msg": message, "input": None}
    return CodegenError(422, {"detail": [problem]})


def forced(status: int, operation: str | None) -> CodegenError:
    """The answer a test forced for `operation`: the body Codegen documents for that status on
    that endpoint (a 404 on create means the organization has no repositories)."""
    if status >= 500:
        return CodegenError(status, SERVER_TEXT.get(status, "Server Error"))
    bodies = {
        401: unauthorized,
        402: allowance_spent,
        403: no_access,
        429: rate_limited,
        404: lambda: documented(
            404,
            NO_REPOS
            if operation == "create_run"
            else USER_NOT_FOUND
            if operation == "me"
            else RUN_NOT_FOUND,
        ),
        422: lambda: invalid(["body"], "Value error, refused by the test's forced answer"),
    }
    if status not in bodies:
        raise ValueError(f"Codegen documents no {status} answer; force one of {sorted(bodies)}")
    return bodies[status]()
