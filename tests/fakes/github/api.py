"""The REST request pipeline: faults, authentication, rate limits, ETags, the log, error bodies."""

import hashlib
import json
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.fakes.github.auth import JWT_UNDECODABLE, Caller, access, bearer, identify
from tests.fakes.github.errors import GitHubError, not_found
from tests.fakes.github.forge import Forge
from tests.fakes.github.state import PullRequest, Repository
from tests.fakes.github.traffic import LoggedRequest, Traffic
from tests.fakes.github.validation import parse_body

API_PREFIX = "/api/v3"
API_VERSIONS = ("2022-11-28", "2026-03-10")
T = TypeVar("T")


@dataclass(slots=True)
class Reply:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    """One authenticated REST call, with the lookups every endpoint needs."""

    request: Request
    forge: Forge
    caller: Caller

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def json(self, *, optional: bool = False) -> dict[str, object]:
        return parse_body(await self.request.body(), optional=optional)

    def repo(self, *, write: bool = False) -> Repository:
        """The repository in the path; 404 when unknown or invisible to the caller (as GitHub
        hides it), 403 when it may be read but not written."""
        full_name = f"{self.param('owner')}/{self.param('repo')}"
        repo = self.forge.state.repos.get(full_name)
        allowed = "none" if repo is None else access(self.caller, repo)
        if repo is None or allowed == "none":
            raise not_found()
        if write and allowed != "write":
            raise GitHubError(403, "Must have push access to repository")
        return repo

    def pull(self, repo: Repository) -> PullRequest:
        number = self.param("number")
        pr = self.forge.state.pull(repo, int(number)) if number.isdigit() else None
        if pr is None:
            raise not_found()
        return pr

    def page(self, items: list[T]) -> tuple[list[T], dict[str, str]]:
        """One page of `items` by `page` and `per_page` (30, at most 100), and its Link header."""
        per_page = min(max(_int(self.request.query_params.get("per_page"), 30), 1), 100)
        number = max(_int(self.request.query_params.get("page"), 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        links = []
        for rel, target in (
            ("prev", number - 1),
            ("next", number + 1),
            ("last", last),
            ("first", 1),
        ):
            if (rel in ("next", "last") and number < last) or (
                rel in ("prev", "first") and number > 1
            ):
                url = self.request.url.include_query_params(page=target, per_page=per_page)
                links.append(f'<{url}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return items[(number - 1) * per_page : number * per_page], headers


def _int(text: str | None, default: int) -> int:
    return int(text) if text is not None and text.isdigit() else default


Handler = Callable[[Call], Awaitable[Reply]]


def endpoint(method: str, path: str, handler: Handler, *, app_jwt: bool = False) -> Route:
    """A route under the API prefix; `app_jwt` routes take only the App's JWT, others refuse it."""

    async def serve(request: Request) -> Response:
        forge: Forge = request.app.state.forge
        traffic: Traffic = request.app.state.traffic
        response, caller = await _answer(request, forge, traffic, handler, app_jwt)
        await traffic.record(
            LoggedRequest(
                request.method,
                request.url.path.removeprefix(API_PREFIX),
                request.url.query,
                response.status_code,
                request.headers.get("if-none-match"),
                caller,
            )
        )
        return response

    return Route(API_PREFIX + path, serve, methods=[method])


async def _answer(
    request: Request, forge: Forge, traffic: Traffic, handler: Handler, app_jwt: bool
) -> tuple[Response, str | None]:
    fault = traffic.injected_fault()
    if fault is not None:
        return _error(fault, {}), None
    version = request.headers.get("x-github-api-version")
    if version is not None and version not in API_VERSIONS:
        return _error(GitHubError(400, f"API version {version} is not supported."), {}), None
    try:
        caller = identify(
            bearer(request.headers.get("authorization")),
            personal=forge.personal_tokens,
            app=forge.app,
        )
    except GitHubError as error:
        return _error(error, traffic.bucket("anonymous").headers()), None
    key = f"{caller.kind}:{caller.installation_id or caller.user.login}"
    if caller.kind == "app":
        key = f"app:{forge.app.app_id}"
    bucket = traffic.bucket(key)
    who = (
        f"installation ID {caller.installation_id}"
        if caller.installation_id
        else f"user ID {caller.user.id}"
    )
    limited = traffic.rate_limited(bucket, who)
    if limited is not None:
        return _error(limited, bucket.headers()), key
    try:
        if app_jwt and caller.kind != "app":
            raise GitHubError(401, JWT_UNDECODABLE)
        if not app_jwt and caller.kind == "app":
            raise GitHubError(403, "Resource not accessible by integration")
        reply = await handler(Call(request, forge, caller))
    except GitHubError as error:
        bucket.used += 1
        return _error(error, bucket.headers()), key
    content = b"" if reply.body is None else json.dumps(reply.body).encode()
    headers = dict(reply.headers)
    if request.method == "GET" and reply.status == 200:
        tag = hashlib.sha256(caller.token.encode() + content).hexdigest()[:32]
        headers["ETag"] = f'W/"{tag}"'
        if _matches(request.headers.get("if-none-match"), tag):
            # A conditional request that finds nothing new costs nothing, as on GitHub.
            return _json(304, b"", headers | bucket.headers()), key
    bucket.used += 1
    return _json(reply.status, content, headers | bucket.headers()), key


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    offered = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
    return tag in offered or "*" in offered


def _json(status: int, content: bytes, headers: dict[str, str]) -> Response:
    headers = headers | {
        "X-GitHub-Media-Type": "github.v3; format=json",
        "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(),
        "X-GitHub-Api-Version-Selected": API_VERSIONS[0],
    }
    if status == 304:
        return Response(status_code=304, headers=headers)
    return Response(content, status, headers, media_type="application/json; charset=utf-8")


def _error(error: GitHubError, rate_headers: dict[str, str]) -> Response:
    return _json(error.status, json.dumps(error.body()).encode(), rate_headers | error.headers)
