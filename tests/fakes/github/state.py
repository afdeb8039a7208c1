"""The fake GitHub's records: users, repositories, pull requests, checks, statuses, comments."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class User:
    id: int
    login: str
    type: str = "User"  # "Bot" for an App acting through an installation token


@dataclass(slots=True)
class Repository:
    id: int
    owner: User
    name: str
    default_branch: str
    git_dir: Path
    private: bool
    collaborators: set[str]
    installation_id: int | None
    created_at: datetime = field(default_factory=now)
    pushed_at: datetime = field(default_factory=now)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass(slots=True)
class PullRequest:
    id: int
    number: int
    repo: Repository
    title: str
    body: str | None
    user: User
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    state: str = "open"
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    # None until computed, as on GitHub: the first read after a change answers null.
    mergeable: bool | None = None
    conflict_forced: bool = False
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    closed_at: datetime | None = None


@dataclass(slots=True)
class CheckRun:
    id: int
    repo: Repository
    name: str
    head_sha: str
    check_suite_id: int
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    details_url: str | None
    external_id: str | None
    output: dict[str, str | None]


@dataclass(slots=True)
class CommitStatus:
    id: int
    repo: Repository
    sha: str
    state: str
    target_url: str | None
    description: str | None
    context: str
    creator: User
    created_at: datetime = field(default_factory=now)


@dataclass(slots=True)
class Comment:
    id: int
    repo: Repository
    issue_number: int
    body: str
    user: User
    app_id: int | None = None  # the App it was written through (GitHub's performed_via_github_app)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass(frozen=True, slots=True)
class Merge:
    repo: str
    number: int
    method: str
    sha: str
    by: str


@dataclass(slots=True)
class State:
    """Everything the fake knows; ids come from one counter so no two objects share one."""

    users: dict[str, User] = field(default_factory=dict)
    repos: dict[str, Repository] = field(default_factory=dict)
    pulls: dict[str, dict[int, PullRequest]] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    check_suites: dict[tuple[str, str], int] = field(default_factory=dict)
    statuses: list[CommitStatus] = field(default_factory=list)
    comments: dict[int, Comment] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    issue_numbers: dict[str, Iterator[int]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    def new_id(self) -> int:
        return next(self.ids)

    def user(self, login: str, *, type: str = "User") -> User:
        """The user called `login`, created on first mention."""
        if login not in self.users:
            self.users[login] = User(self.new_id(), login, type)
        return self.users[login]

    def next_issue_number(self, repo: Repository) -> int:
        return next(self.issue_numbers.setdefault(repo.full_name, itertools.count(1)))

    def pull(self, repo: Repository, number: int) -> PullRequest | None:
        return self.pulls.get(repo.full_name, {}).get(number)

    def repo_pulls(self, repo: Repository) -> list[PullRequest]:
        return list(self.pulls.get(repo.full_name, {}).values())

    def check_suite_id(self, repo: Repository, head_sha: str) -> int:
        return self.check_suites.setdefault((repo.full_name, head_sha), self.new_id())
