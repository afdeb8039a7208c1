"""The JSON shapes GitHub gives its objects, shared by REST answers and webhook payloads."""

import base64
from dataclasses import dataclass

from tests.fakes.github.auth import INSTALLATION_PERMISSIONS, App
from tests.fakes.github.state import (
    CheckRun,
    Comment,
    CommitStatus,
    PullRequest,
    Repository,
    User,
    iso,
)

Json = dict[str, object]


@dataclass(frozen=True, slots=True)
class Urls:
    api: str  # e.g. http://127.0.0.1:PORT/api/v3, as on GitHub Enterprise
    web: str  # html_url and clone_url base: http://127.0.0.1:PORT


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode().rstrip("=")


def user_json(user: User, urls: Urls) -> Json:
    return {
        "login": user.login,
        "id": user.id,
        "node_id": node_id(user.type, user.id),
        "avatar_url": f"{urls.web}/avatars/u/{user.id}",
        "url": f"{urls.api}/users/{user.login}",
        "html_url": f"{urls.web}/{user.login}",
        "type": user.type,
        "site_admin": False,
    }


def repo_json(repo: Repository, urls: Urls, *, permissions: dict[str, bool] | None = None) -> Json:
    api = f"{urls.api}/repos/{repo.full_name}"
    body: Json = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "owner": user_json(repo.owner, urls),
        "html_url": f"{urls.web}/{repo.full_name}",
        "description": None,
        "fork": False,
        "url": api,
        "pulls_url": f"{api}/pulls{{/number}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "git_url": f"git://127.0.0.1/{repo.full_name}.git",
        "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
        "clone_url": f"{urls.web}/{repo.full_name}.git",
        "default_branch": repo.default_branch,
        "archived": False,
        "disabled": False,
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.pushed_at),
        "pushed_at": iso(repo.pushed_at),
    }
    if permissions is not None:
        body["permissions"] = permissions
    return body


def branch_end(repo: Repository, ref: str, sha: str, urls: Urls) -> Json:
    return {
        "label": f"{repo.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user_json(repo.owner, urls),
        "repo": repo_json(repo, urls),
    }


# The list endpoint leaves these out; only GET of one pull request carries them.
DETAIL_ONLY = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
)


def mergeable_state(pr: PullRequest) -> str:
    if pr.state == "closed" or pr.mergeable is None:
        return "unknown"
    if pr.draft:
        return "draft"
    return "clean" if pr.mergeable else "dirty"


def pull_json(pr: PullRequest, urls: Urls, *, full: bool = True, comments: int = 0) -> Json:
    api = f"{urls.api}/repos/{pr.repo.full_name}"
    html = f"{urls.web}/{pr.repo.full_name}/pull/{pr.number}"
    body: Json = {
        "url": f"{api}/pulls/{pr.number}",
        "id": pr.id,
        "node_id": node_id("PullRequest", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{api}/issues/{pr.number}",
        "comments_url": f"{api}/issues/{pr.number}/comments",
        "statuses_url": f"{api}/statuses/{pr.head_sha}",
        "commits_url": f"{api}/pulls/{pr.number}/commits",
        "review_comments_url": f"{api}/pulls/{pr.number}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user_json(pr.user, urls),
        "body": pr.body,
        "labels": [],
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": iso(pr.closed_at),
        "merged_at": iso(pr.merged_at),
        "merge_commit_sha": pr.merge_commit_sha,
        "head": branch_end(pr.repo, pr.head_ref, pr.head_sha, urls),
        "base": branch_end(pr.repo, pr.base_ref, pr.base_sha, urls),
        "_links": {
            "self": {"href": f"{api}/pulls/{pr.number}"},
            "html": {"href": html},
            "issue": {"href": f"{api}/issues/{pr.number}"},
            "comments": {"href": f"{api}/issues/{pr.number}/comments"},
            "statuses": {"href": f"{api}/statuses/{pr.head_sha}"},
        },
        "author_association": "OWNER" if pr.user is pr.repo.owner else "CONTRIBUTOR",
        "auto_merge": None,
        "draft": pr.draft,
        "merged": pr.merged,
        "mergeable": None if pr.state == "closed" else pr.mergeable,
        "mergeable_state": mergeable_state(pr),
        "merged_by": None if pr.merged_by is None else user_json(pr.merged_by, urls),
        "comments": comments,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "rebaseable": None if pr.state == "closed" else pr.mergeable,
    }
    if not full:
        for name in DETAIL_ONLY:
            body.pop(name, None)
    return body


def app_json(app: App, urls: Urls, owner: User) -> Json:
    return {
        "id": app.app_id,
        "slug": app.slug,
        "node_id": node_id("App", app.app_id),
        "owner": user_json(owner, urls),
        "name": app.slug,
        "permissions": INSTALLATION_PERMISSIONS,
        "events": ["check_run", "pull_request", "push"],
    }


def installation_json(installation_id: int, account: User, app: App, urls: Urls) -> Json:
    return {
        "id": installation_id,
        "account": user_json(account, urls),
        "app_id": app.app_id,
        "app_slug": app.slug,
        "target_id": account.id,
        "target_type": account.type if account.type != "Bot" else "User",
        "repository_selection": "selected",
        "access_tokens_url": f"{urls.api}/app/installations/{installation_id}/access_tokens",
        "permissions": INSTALLATION_PERMISSIONS,
        "events": ["check_run", "pull_request", "push"],
    }


def check_run_json(run: CheckRun, urls: Urls, app: App, pulls: list[PullRequest]) -> Json:
    api = f"{urls.api}/repos/{run.repo.full_name}"
    return {
        "id": run.id,
        "node_id": node_id("CheckRun", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id or "",
        "url": f"{api}/check-runs/{run.id}",
        "html_url": f"{urls.web}/{run.repo.full_name}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "output": {
            **run.output,
            "annotations_count": 0,
            "annotations_url": f"{api}/check-runs/{run.id}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.check_suite_id},
        "app": app_json(app, urls, run.repo.owner),
        "pull_requests": [
            {
                "url": f"{api}/pulls/{pr.number}",
                "id": pr.id,
                "number": pr.number,
                "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": _repo_ref(pr.repo, urls)},
                "base": {"ref": pr.base_ref, "sha": pr.base_sha, "repo": _repo_ref(pr.repo, urls)},
            }
            for pr in pulls
        ],
    }


def _repo_ref(repo: Repository, urls: Urls) -> Json:
    return {"id": repo.id, "url": f"{urls.api}/repos/{repo.full_name}", "name": repo.name}


def status_json(status: CommitStatus, urls: Urls) -> Json:
    return {
        "url": f"{urls.api}/repos/{status.repo.full_name}/statuses/{status.sha}",
        "avatar_url": f"{urls.web}/avatars/u/{status.creator.id}",
        "id": status.id,
        "node_id": node_id("StatusContext", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": iso(status.created_at),
        "updated_at": iso(status.created_at),
        "creator": user_json(status.creator, urls),
    }


def comment_json(comment: Comment, urls: Urls) -> Json:
    api = f"{urls.api}/repos/{comment.repo.full_name}"
    return {
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": f"{api}/issues/comments/{comment.id}",
        "html_url": f"{urls.web}/{comment.repo.full_name}/pull/{comment.issue_number}"
        f"#issuecomment-{comment.id}",
        "issue_url": f"{api}/issues/{comment.issue_number}",
        "body": comment.body,
        "user": user_json(comment.user, urls),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "author_association": "OWNER" if comment.user is comment.repo.owner else "NONE",
        "performed_via_github_app": {"id": comment.app_id} if comment.app_id else None,
    }
