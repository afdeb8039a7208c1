"""Git smart HTTP in front of the bare repositories: `git http-backend` behind token Basic auth."""

import asyncio
import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.fakes.github import git
from tests.fakes.github.auth import Caller, access, identify
from tests.fakes.github.errors import GitHubError
from tests.fakes.github.forge import Forge

CHALLENGE = {"WWW-Authenticate": 'Basic realm="GitHub"'}


def _caller(request: Request, forge: Forge) -> Caller | None:
    """The caller behind `Authorization: Basic` (username `x-access-token` or the token's own
    login, password a token), or None: git over HTTP takes no JWT and no anonymous caller."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, token = base64.b64decode(encoded).decode().partition(":")
        caller = identify(token, personal=forge.personal_tokens, app=forge.app)
    except (binascii.Error, UnicodeDecodeError, GitHubError):
        return None
    if caller.kind == "app" or username not in ("x-access-token", caller.user.login):
        return None
    return caller


async def serve_git(request: Request) -> Response:
    forge: Forge = request.app.state.forge
    owner, name, rest = (request.path_params[k] for k in ("owner", "repo", "rest"))
    caller = _caller(request, forge)
    if caller is None:
        return Response("Invalid username or token.\n", 401, CHALLENGE)
    repo = forge.state.repos.get(f"{owner}/{name}")
    allowed = "none" if repo is None else access(caller, repo)
    if repo is None or allowed == "none":
        return Response("Repository not found.\n", 404)
    pushing = "git-receive-pack" in (rest, request.query_params.get("service"))
    if pushing and allowed != "write":
        return Response(f"Permission to {repo.full_name}.git denied to {caller.user.login}.\n", 403)
    updating = pushing and request.method == "POST"
    before = await git.refs(repo.git_dir) if updating else {}
    body = await request.body()
    env = {
        "GIT_PROJECT_ROOT": str(forge.root / "repos"),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{owner}/{name}.git/{rest}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_CONTENT_ENCODING": request.headers.get("content-encoding", ""),
        "GIT_PROTOCOL": request.headers.get("git-protocol", ""),
        "REMOTE_USER": caller.user.login,
        "REMOTE_ADDR": "127.0.0.1",
    }
    process = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=git.clean_env(env),
    )
    out, _ = await asyncio.wait_for(process.communicate(body), timeout=60)
    status, headers, content = _parse_cgi(out)
    if updating:
        after = await git.refs(repo.git_dir)
        for ref in sorted(before.keys() | after.keys()):
            if before.get(ref) != after.get(ref):
                await forge.ref_updated(repo, ref, before.get(ref), after.get(ref), caller.user)
    return Response(content, status, headers)


def _parse_cgi(out: bytes) -> tuple[int, dict[str, str], bytes]:
    ends = [(at, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (at := out.find(sep)) >= 0]
    at, width = min(ends) if ends else (len(out), 0)
    head, content = out[:at], out[at + width :]
    status, headers = 200, {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name] = value.strip()
    return status, headers, content


ROUTES = [Route("/{owner}/{repo}.git/{rest:path}", serve_git, methods=["GET", "POST"])]
