"""The JSON bodies the fake answers with, field for field as Codegen's OpenAPI document has them."""

import math
from collections.abc import Sequence

from tests.fakes.codegen.state import Account, LogEntry, Organization, PullRequestLink, Run

Json = dict[str, object]


def user_json(account: Account) -> Json:
    return {
        "id": account.id,
        "email": account.email,
        "github_user_id": account.github_user_id,
        "github_username": account.github_username,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account.github_user_id}?v=4",
        "full_name": account.full_name,
        "role": account.role,
        "is_admin": account.role == "ADMIN",
    }


def organization_json(organization: Organization) -> Json:
    return {
        "id": organization.id,
        "name": organization.name,
        "settings": {"enable_pr_creation": True, "enable_rules_detection": True},
    }


def pull_request_json(pr: PullRequestLink) -> Json:
    return {
        "id": pr.id,
        "title": pr.title,
        "url": pr.url,
        "created_at": pr.created_at,
        "head_branch_name": pr.head_branch_name,
    }


def run_json(run: Run) -> Json:
    return {
        "id": run.id,
        "organization_id": run.organization_id,
        "status": run.status,
        "created_at": run.created_at,
        "web_url": run.web_url,
        "result": run.result,
        "summary": None,
        "source_type": run.source_type,
        "github_pull_requests": [pull_request_json(pr) for pr in run.pull_requests],
        "metadata": run.metadata,
    }


def log_json(entry: LogEntry) -> Json:
    return {
        "agent_run_id": entry.agent_run_id,
        "created_at": entry.created_at,
        "tool_name": entry.tool_name,
        "message_type": entry.message_type,
        "thought": entry.thought,
        "observation": entry.observation,
        "tool_input": entry.tool_input,
        "tool_output": entry.tool_output,
    }


def paging(total: int, skip: int, limit: int) -> Json:
    """`page`, `size` and `pages` for a skip/limit request, as Codegen's `Page` computes them."""
    return {"page": skip // limit + 1, "size": limit, "pages": math.ceil(total / limit)}


def page_json(items: Sequence[Json], total: int, skip: int, limit: int) -> Json:
    return {"items": list(items), "total": total, **paging(total, skip, limit)}


def logs_json(run: Run, entries: Sequence[LogEntry], skip: int, limit: int) -> Json:
    return {
        "id": run.id,
        "organization_id": run.organization_id,
        "status": run.status,
        "created_at": run.created_at,
        "web_url": run.web_url,
        "result": run.result,
        "metadata": run.metadata,
        "logs": [log_json(entry) for entry in entries],
        "total_logs": len(run.logs),
        **paging(len(run.logs), skip, limit),
    }
