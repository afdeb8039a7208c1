"""GitHub App endpoints, called with the App's JWT: installations and their access tokens."""

from tests.fakes.github.api import Call, Reply, endpoint
from tests.fakes.github.auth import INSTALLATION_PERMISSIONS
from tests.fakes.github.errors import GitHubError, not_found
from tests.fakes.github.payloads import app_json, installation_json, user_json
from tests.fakes.github.state import iso
from tests.fakes.github.validation import Field, check

LEVELS = {"read": 1, "write": 2, "admin": 3}


async def get_app(call: Call) -> Reply:
    return Reply(200, app_json(call.forge.app, call.forge.urls, call.forge.app.bot))


async def get_authenticated_user(call: Call) -> Reply:
    # GitHub: an installation token is not a user ("Resource not accessible by integration").
    if call.caller.kind != "user":
        raise GitHubError(403, "Resource not accessible by integration")
    return Reply(200, user_json(call.caller.user, call.forge.urls))


async def create_access_token(call: Call) -> Reply:
    installation_id = call.param("installation_id")
    account = (
        call.forge.installations.get(int(installation_id)) if installation_id.isdigit() else None
    )
    if account is None:
        raise not_found()
    body = await call.json(optional=True)
    check(body, "AccessToken", [Field("permissions", dict), Field("repositories", list)])
    requested = body.get("permissions")
    wanted = requested if isinstance(requested, dict) and requested else INSTALLATION_PERMISSIONS
    permissions: dict[str, str] = {}
    for name, level in wanted.items():
        granted = INSTALLATION_PERMISSIONS.get(str(name))
        if granted is None or LEVELS.get(str(level), 99) > LEVELS[granted]:
            raise GitHubError(
                422, "The permissions requested are not granted to this installation."
            )
        permissions[str(name)] = str(level)
    token, issued = call.forge.app.issue_token(int(installation_id), permissions)
    return Reply(
        201,
        {
            "token": token,
            "expires_at": iso(issued.expires_at),
            "permissions": permissions,
            "repository_selection": "selected",
        },
    )


async def get_repo_installation(call: Call) -> Reply:
    repo = call.forge.state.repos.get(f"{call.param('owner')}/{call.param('repo')}")
    if repo is None or repo.installation_id is None:
        raise not_found()
    account = call.forge.installations[repo.installation_id]
    return Reply(
        200, installation_json(repo.installation_id, account, call.forge.app, call.forge.urls)
    )


ROUTES = [
    endpoint("GET", "/app", get_app, app_jwt=True),
    endpoint("GET", "/user", get_authenticated_user),
    endpoint(
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        create_access_token,
        app_jwt=True,
    ),
    endpoint("GET", "/repos/{owner}/{repo}/installation", get_repo_installation, app_jwt=True),
]
