"""Repository and branch endpoints."""

from tests.fakes.github import git
from tests.fakes.github.api import Call, Reply, endpoint
from tests.fakes.github.errors import GitHubError
from tests.fakes.github.payloads import repo_json


async def get_repo(call: Call) -> Reply:
    repo = call.repo()
    user = call.caller.user
    owner = user is repo.owner
    member = owner or user.login in repo.collaborators or call.caller.kind == "installation"
    permissions = {
        "admin": owner,
        "maintain": owner,
        "push": member,
        "triage": member,
        "pull": True,
    }
    return Reply(200, repo_json(repo, call.forge.urls, permissions=permissions))


async def get_branch(call: Call) -> Reply:
    repo = call.repo()
    name = call.param("branch")
    sha = await git.resolve(repo.git_dir, f"refs/heads/{name}")
    if sha is None:
        raise GitHubError(
            404,
            "Branch not found",
            documentation_url="https://docs.github.com/rest/branches/branches#get-a-branch",
        )
    api = f"{call.forge.urls.api}/repos/{repo.full_name}"
    return Reply(
        200,
        {
            "name": name,
            "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
            "protected": False,
            "_links": {
                "self": f"{api}/branches/{name}",
                "html": f"{call.forge.urls.web}/{repo.full_name}/tree/{name}",
            },
        },
    )


ROUTES = [
    endpoint("GET", "/repos/{owner}/{repo}", get_repo),
    endpoint("GET", "/repos/{owner}/{repo}/branches/{branch:path}", get_branch),
]
