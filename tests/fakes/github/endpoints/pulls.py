"""Pull request endpoints: list (with ETags and pages), get, create, update, merge."""

from collections.abc import Callable
from datetime import datetime

from tests.fakes.github import pulls
from tests.fakes.github.api import Call, Reply, endpoint
from tests.fakes.github.errors import invalid_request, not_found, validation_failed
from tests.fakes.github.payloads import pull_json
from tests.fakes.github.state import PullRequest
from tests.fakes.github.validation import Field, check, text

CREATE = [
    Field("title", str, required=True),
    Field("head", str, required=True),
    Field("base", str, required=True),
    Field("body", str, nullable=True),
    Field("draft", bool),
    Field("maintainer_can_modify", bool),
]
UPDATE = [
    Field("title", str),
    Field("body", str, nullable=True),
    Field("state", str, choices=("open", "closed")),
    Field("base", str),
    Field("maintainer_can_modify", bool),
]
# How `sort` orders pull requests (ascending). "popularity" (comments) and "long-running" (age
# weighted by activity) are approximated by creation, which is enough for what tests ask.
SORTS: dict[str, Callable[[PullRequest], tuple[datetime, int]]] = {
    "created": lambda pr: (pr.created_at, pr.number),
    "updated": lambda pr: (pr.updated_at, pr.number),
    "popularity": lambda pr: (pr.created_at, pr.number),
    "long-running": lambda pr: (pr.created_at, pr.number),
}
MERGE = [
    Field("commit_title", str),
    Field("commit_message", str),
    Field("sha", str),
    Field("merge_method", str, choices=("merge", "squash", "rebase")),
]


async def list_pulls(call: Call) -> Reply:
    repo = call.repo()
    query = call.request.query_params
    state = query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise invalid_request(
            f'For \'state\', "{state}" is not a member of ["open", "closed", "all"].'
        )
    sort, direction = query.get("sort", "created"), query.get("direction")
    if sort not in SORTS:
        raise invalid_request(f"For 'sort', \"{sort}\" is not a member of {list(SORTS)}.")
    if direction not in (None, "asc", "desc"):
        raise invalid_request(
            f'For \'direction\', "{direction}" is not a member of ["asc", "desc"].'
        )
    # GitHub's default direction: "desc when sort is created or sort is not specified,
    # otherwise asc".
    ordered = sorted(call.forge.state.repo_pulls(repo), key=SORTS[sort])
    if (direction or ("desc" if sort == "created" else "asc")) == "desc":
        ordered.reverse()
    found = [
        pr
        for pr in ordered
        if state in ("all", pr.state)
        and query.get("head") in (None, f"{repo.owner.login}:{pr.head_ref}")
        and query.get("base") in (None, pr.base_ref)
    ]
    page, headers = call.page(found)
    return Reply(200, [pull_json(pr, call.forge.urls, full=False) for pr in page], headers)


async def get_pull(call: Call) -> Reply:
    pr = call.pull(call.repo())
    body = pull_json(pr, call.forge.urls, comments=_comments(call, pr))
    if pr.state == "open" and pr.mergeable is None:
        # GitHub answers null and starts computing; the next read sees the result.
        await pulls.refresh_mergeable(pr)
    return Reply(200, body)


async def create_pull(call: Call) -> Reply:
    repo = call.repo(write=True)
    body = await call.json()
    check(body, "PullRequest", CREATE)
    pr = await pulls.open_pull_request(
        call.forge,
        repo,
        head=str(body["head"]),
        base=str(body["base"]),
        title=str(body["title"]),
        author=call.caller.user,
        body=text(body, "body"),
        draft=body.get("draft") is True,
    )
    url = f"{call.forge.urls.api}/repos/{repo.full_name}/pulls/{pr.number}"
    return Reply(201, pull_json(pr, call.forge.urls), {"Location": url})


async def update_pull(call: Call) -> Reply:
    repo = call.repo(write=True)
    pr = call.pull(repo)
    body = await call.json()
    check(body, "PullRequest", UPDATE)
    if "base" in body and str(body["base"]) != pr.base_ref:
        raise validation_failed("PullRequest", field="base", code="invalid")
    if "title" in body:
        pr.title = str(body["title"])
    if "body" in body:
        pr.body = text(body, "body")
    if body.get("state") == "closed":
        pulls.close(call.forge, pr, call.caller.user)
    elif body.get("state") == "open":
        pulls.reopen(call.forge, pr, call.caller.user)
    return Reply(200, pull_json(pr, call.forge.urls, comments=_comments(call, pr)))


async def merge_pull(call: Call) -> Reply:
    repo = call.repo(write=True)
    pr = call.pull(repo)
    body = await call.json(optional=True)
    check(body, "PullRequest", MERGE)
    if call.forge.before_merge:
        await call.forge.before_merge.pop(0)()
    sha = await pulls.merge(
        call.forge,
        pr,
        method=text(body, "merge_method") or "merge",
        sha=text(body, "sha"),
        title=text(body, "commit_title"),
        message=text(body, "commit_message"),
        by=call.caller.user,
    )
    return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


async def check_merged(call: Call) -> Reply:
    pr = call.pull(call.repo())
    if not pr.merged:
        raise not_found()
    return Reply(204, None)


def _comments(call: Call, pr: PullRequest) -> int:
    comments = call.forge.state.comments.values()
    return sum(1 for c in comments if c.repo is pr.repo and c.issue_number == pr.number)


ROUTES = [
    endpoint("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    endpoint("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    endpoint("GET", "/repos/{owner}/{repo}/pulls/{number}", get_pull),
    endpoint("PATCH", "/repos/{owner}/{repo}/pulls/{number}", update_pull),
    endpoint("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge", merge_pull),
    endpoint("GET", "/repos/{owner}/{repo}/pulls/{number}/merge", check_merged),
]
