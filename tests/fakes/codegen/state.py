"""The fake Codegen's records: users and their API keys, organizations, the repositories they
reach on the fake GitHub, agent runs with their turns, pull requests and logs."""

import asyncio
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime


def now_text() -> str:
    """A timestamp as the live API writes it: UTC, a space, microseconds, no zone."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(slots=True)
class Account:
    """A Codegen user and the one API key a test gave them."""

    id: int
    token: str
    github_username: str
    github_user_id: str
    email: str
    full_name: str
    role: str = "ADMIN"


@dataclass(slots=True)
class RepositoryLink:
    """A GitHub repository the organization installed Codegen on; `id` is Codegen's own."""

    id: int
    full_name: str
    default_branch: str


@dataclass(slots=True)
class Organization:
    id: int
    name: str
    members: set[int] = field(default_factory=set)
    repositories: dict[int, RepositoryLink] = field(default_factory=dict)
    run_allowance: int | None = None  # None: the plan allows any number of runs
    runs_created: int = 0


@dataclass(slots=True)
class PullRequestLink:
    """A pull request a run opened, as Codegen lists it in `github_pull_requests`."""

    id: int
    title: str
    url: str
    number: int
    head_branch_name: str
    created_at: str = field(default_factory=now_text)


@dataclass(slots=True)
class LogEntry:
    agent_run_id: int
    message_type: str
    thought: str | None = None
    tool_name: str | None = None
    tool_input: dict[str, object] | None = None
    tool_output: dict[str, object] | None = None
    observation: dict[str, object] | str | None = None
    created_at: str = field(default_factory=now_text)


@dataclass(slots=True)
class TurnRecord:
    """One message to the agent (the run's prompt, then each resume) and what became of it.
    `upcoming` are the statuses the next polls show; `outcome` is (status, result) once the
    agent is done, shown by the first poll after `upcoming` runs out."""

    number: int
    prompt: str
    upcoming: list[str]
    outcome: tuple[str, str] | None = None
    task: "asyncio.Task[None] | None" = None


@dataclass(slots=True)
class Run:
    id: int
    organization_id: int
    user_id: int
    repository: RepositoryLink | None
    model: str | None
    agent_type: str | None
    metadata: dict[str, object] | None
    status: str
    result: str | None = None
    source_type: str = "API"
    created_at: str = field(default_factory=now_text)
    turns: list[TurnRecord] = field(default_factory=list)
    pull_requests: list[PullRequestLink] = field(default_factory=list)
    branch: str | None = None  # where this run pushes, once it pushed
    logs: list[LogEntry] = field(default_factory=list)
    banned: bool = False

    @property
    def web_url(self) -> str:
        return f"https://codegen.com/agent/trace/{self.id}"

    @property
    def turn(self) -> TurnRecord:
        return self.turns[-1]


def _counter() -> Iterator[int]:
    # Ids start somewhere arbitrary so that no test can lean on their values.
    return itertools.count(random.randrange(10_000, 90_000))


@dataclass(slots=True)
class State:
    accounts: dict[str, Account] = field(default_factory=dict)  # by API key
    organizations: dict[int, Organization] = field(default_factory=dict)
    runs: dict[int, Run] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=_counter)

    def new_id(self) -> int:
        return next(self.ids)

    def account(self, username: str) -> Account:
        for account in self.accounts.values():
            if account.github_username == username:
                return account
        raise KeyError(f"the fake Codegen has no user {username!r}")
