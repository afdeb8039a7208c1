"""The Forge seam: where repositories, pull requests, statuses and merges live.

Implementations: `local_git` (repositories on disk; the embedded default) and `github`.
Every method is safe to call again after a crash: reads are reads, and each write either
finds its effect already in place and returns it, or makes it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from codegenapp.domain.events import JsonObject
from codegenapp.domain.reports import CommitReport
from codegenapp.drivers.forge.events import ForgeEvent

DIFF_LIMIT_BYTES = 4 * 1024 * 1024
"""The longest diff `Forge.diff` returns by default: a change past it is not read for bent
gates line by line; a person looks at it instead (see `DiffTooLarge`)."""


class ChangeState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


class CommitState(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A pull request as the forge knows it."""

    number: int
    url: str
    title: str
    head_branch: str
    base_branch: str
    head_sha: str
    state: ChangeState
    merge_sha: str | None = None
    author: str | None = None  # who opened it; None: this server (local pull requests)
    draft: bool = False


@dataclass(frozen=True, slots=True)
class MergeResult:
    number: int
    head_sha: str
    merge_sha: str
    already_merged: bool


@dataclass(frozen=True, slots=True)
class CommitRequest:
    """A commit the orchestrator makes for an agent that is not native to the forge: the
    files on top of `parent`, pushed to `branch`, which is at `parent` now (or, with
    `create`, does not exist yet)."""

    branch: str
    parent: str
    create: bool
    files: tuple[tuple[str, str], ...]  # (path, text) to write
    deletes: tuple[str, ...]
    message: str
    author: str  # the name the commit says wrote it (our agents never pass for a person)
    date: int  # seconds since the epoch: with the rest, it makes a replay the same commit


class Forge(Protocol):
    """A place that hosts repositories and their pull requests."""

    name: str

    async def check_repository(self, repository: str, *, default_branch: str) -> None:
        """Raise `RepositoryInvalid` (field `repository` or `default_branch`) unless the
        repository exists, is a git repository and has the branch."""
        ...

    async def fetch_snapshot(self, repository: str, sha: str, dest: Path) -> None:
        """Check out exactly commit `sha` into `dest` (created; must not exist yet), with a
        `.git` that knows only that commit. Raise `ForgeError` if the commit is unknown."""
        ...

    async def open_change_request(
        self, repository: str, *, head_branch: str, base_branch: str, title: str, body: str
    ) -> ChangeRequest:
        """Open a pull request from `head_branch`; if one is already open for it, return that
        one (idempotent). Raise `ForgeError` if the branch does not exist."""
        ...

    async def push_commit(self, repository: str, change: CommitRequest) -> str:
        """Commit `change` and move its branch there; the commit's sha. The same request makes
        the same commit, and finding the branch already there is success (a replay). Raise
        `ForgeError` if the branch is not where `change` expects it (someone else pushed)."""
        ...

    async def branch_head(self, repository: str, branch: str) -> str | None:
        """The commit `branch` points at now, or None if there is no such branch."""
        ...

    async def get_change_request(self, repository: str, number: int) -> ChangeRequest | None:
        """The pull request as it is now (its head follows its branch), or None."""
        ...

    async def diff(
        self, repository: str, base: str, head: str, *, max_bytes: int = DIFF_LIMIT_BYTES
    ) -> str:
        """What `git diff base...head` prints: the change `head` makes since it left `base` (a
        branch name or a full commit id; `head` is a full commit id), with `a/` and `b/`
        prefixes, renames found and 3 lines of context whatever the repository configures.

        A read. Raise `DiffTooLarge` if it is longer than `max_bytes` (nothing is returned
        then: a diff cut short hides its end), `ForgeError` if a commit or the branch is
        unknown or the two share no history.
        """
        ...

    async def list_open_change_requests(self, repository: str) -> list[ChangeRequest]:
        """Every open pull request, oldest first (the reconcile poll for missed webhooks)."""
        ...

    async def comment(self, repository: str, number: int, body: str) -> None:
        """Add a comment to the pull request's conversation."""
        ...

    async def set_commit_status(
        self, repository: str, sha: str, *, context: str, state: CommitState, description: str
    ) -> None:
        """Set the status named `context` on commit `sha` (the latest one per context wins)."""
        ...

    async def report(self, repository: str, sha: str, report: CommitReport) -> None:
        """Show `report` on commit `sha`: check runs where the credentials may write them,
        else the aggregate as a commit status (context: its name). Idempotent and
        stateless: what was written before is found again on the forge (check runs by
        `report.external_id` and name) and changed only where it differs."""
        ...

    async def upsert_comment(self, repository: str, number: int, *, marker: str, body: str) -> None:
        """Make the pull request's one comment containing `marker` read `body` (which must
        contain `marker`): the first such comment is edited, or a new one is added."""
        ...

    async def merge(
        self,
        repository: str,
        number: int,
        *,
        expected_head_sha: str,
        message: str,
        method: str = "merge",
    ) -> MergeResult:
        """Merge the pull request if and only if its head is still `expected_head_sha`, by
        `method` (`merge`, `squash` or `rebase`; a forge that knows only one may ignore it).

        Idempotent: a pull request already merged at that head returns its merge with
        `already_merged=True`. Raise `MergeRefused` (and change nothing) if the head moved,
        the change conflicts with the base, or the base cannot be updated safely.
        """
        ...


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """A delivery whose signature held: the forge's own delivery id (a redelivery repeats
    it), the event's name and action, and the payload as sent."""

    id: str
    event: str
    action: str | None
    payload: JsonObject


class WebhookReader(Protocol):
    """Reads a forge's webhook deliveries. Pure: no I/O, so it can run before anything is
    stored, on every delivery, however hostile."""

    forge: str

    def verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """The delivery, if `body` carries a valid signature in `headers` (lower-case names)
        and names its event and id. Raise `WebhookInvalid`: status 401 for a missing or wrong
        signature (checked first, before the body is parsed), 400 for the rest."""
        ...

    def parse(self, delivery: WebhookDelivery) -> ForgeEvent | None:
        """The delivery as one of our events, or None for what we do not act on. Raise
        `WebhookInvalid` if an event we act on lacks a field we need."""
        ...
