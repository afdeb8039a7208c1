"""Issue comments, which on GitHub are also a pull request's conversation."""

from tests.fakes.github.api import Call, Reply, endpoint
from tests.fakes.github.errors import not_found
from tests.fakes.github.payloads import comment_json
from tests.fakes.github.state import Comment, now
from tests.fakes.github.validation import Field, check

BODY = [Field("body", str, required=True)]


async def create_comment(call: Call) -> Reply:
    repo = call.repo(write=True)
    pr = call.pull(repo)
    body = await call.json()
    check(body, "IssueComment", BODY)
    through_app = call.forge.app.app_id if call.caller.kind == "installation" else None
    comment = Comment(
        call.forge.state.new_id(), repo, pr.number, str(body["body"]), call.caller.user,
        app_id=through_app,
    )  # fmt: skip
    call.forge.state.comments[comment.id] = comment
    rendered = comment_json(comment, call.forge.urls)
    return Reply(201, rendered, {"Location": str(rendered["url"])})


def _comment(call: Call, *, write: bool) -> Comment:
    repo = call.repo(write=write)
    comment_id = call.param("comment_id")
    comment = call.forge.state.comments.get(int(comment_id)) if comment_id.isdigit() else None
    if comment is None or comment.repo is not repo:
        raise not_found()
    return comment


async def update_comment(call: Call) -> Reply:
    comment = _comment(call, write=True)
    body = await call.json()
    check(body, "IssueComment", BODY)
    comment.body, comment.updated_at = str(body["body"]), now()
    return Reply(200, comment_json(comment, call.forge.urls))


async def get_comment(call: Call) -> Reply:
    return Reply(200, comment_json(_comment(call, write=False), call.forge.urls))


async def list_comments(call: Call) -> Reply:
    repo = call.repo()
    pr = call.pull(repo)
    comments = [
        c
        for c in call.forge.state.comments.values()
        if c.repo is repo and c.issue_number == pr.number
    ]
    page, headers = call.page(comments)
    return Reply(200, [comment_json(c, call.forge.urls) for c in page], headers)


ROUTES = [
    endpoint("POST", "/repos/{owner}/{repo}/issues/{number}/comments", create_comment),
    endpoint("GET", "/repos/{owner}/{repo}/issues/{number}/comments", list_comments),
    endpoint("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", get_comment),
    endpoint("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", update_comment),
]
