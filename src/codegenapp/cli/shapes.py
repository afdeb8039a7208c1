"""The API's answers as the CLI reads them: only the fields it uses. `--json` prints the
answers whole, as the API sent them."""

from typing import TypedDict


class Health(TypedDict):
    status: str
    version: str


class Token(TypedDict):
    id: int
    name: str
    created_at: str
    last_used_at: str | None


class WhoAmI(TypedDict):
    token: Token
    server_version: str


class Page(TypedDict):
    items: list[object]
    total: int


class Project(TypedDict):
    id: int
    name: str
    forge: str
    repository: str
    default_branch: str
    agent: dict[str, object]
    updated_at: str


class PullRequest(TypedDict):
    number: int
    url: str
    branch: str
    head_sha: str
    merged: bool
    merge_sha: str | None


class Agent(TypedDict):
    driver: str | None
    is_ai: bool | None


class Finding(TypedDict):
    kind: str
    path: str


class HeldChange(TypedDict):
    head_sha: str
    findings: list[Finding]
    omitted: int
    unchecked: str | None
    approved: bool


class Run(TypedDict):
    id: int
    project_id: int
    goal: str
    status: str
    result: str | None
    plan: str | None
    pull_request: PullRequest | None
    validations: list[int]
    agent: Agent
    held_change: HeldChange | None
    created_at: str
    updated_at: str


class Step(TypedDict):
    name: str
    status: str
    summary: str | None
    started_at: str | None
    finished_at: str | None


class Artifact(TypedDict):
    name: str
    kind: str
    size: int
    url: str


class Validation(TypedDict):
    id: int
    project_id: int
    agent_run_id: int | None
    kind: str
    pr_number: int | None
    head_sha: str
    attempt: int
    status: str
    fault: str | None
    failed_step: str | None
    failed_check: str | None
    reason: str | None
    checks: dict[str, str]
    error_context: str | None
    merged: bool
    merge_sha: str | None
    merge_blocked_reason: str | None
    created_at: str
    finished_at: str | None
    steps: list[Step]
    artifacts: list[Artifact]


class Event(TypedDict):
    id: int | None
    type: str
    project_id: int | None
    data: dict[str, object]
    ts: str


class Secret(TypedDict):
    name: str
    updated_at: str
