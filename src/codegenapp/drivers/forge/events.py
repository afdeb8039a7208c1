"""What a forge tells us through its webhooks, in our own words: the few events that start,
stop or redo work. Everything else a forge sends is acknowledged and ignored."""

from dataclasses import dataclass
from enum import StrEnum


class PullRequestAction(StrEnum):
    OPENED = "opened"
    SYNCHRONIZE = "synchronize"  # a new head
    REOPENED = "reopened"
    READY_FOR_REVIEW = "ready_for_review"  # a draft no more
    CLOSED = "closed"  # merged or not: `merged` says


@dataclass(frozen=True, slots=True)
class PullRequestChanged:
    repository: str  # OWNER/NAME
    action: PullRequestAction
    number: int
    url: str
    title: str
    author: str
    head_branch: str
    head_sha: str
    base_branch: str
    draft: bool
    merged: bool


@dataclass(frozen=True, slots=True)
class BranchPushed:
    repository: str
    branch: str
    sha: str  # the branch's new head


@dataclass(frozen=True, slots=True)
class RecheckRequested:
    """Someone asked the forge to run our checks on a commit again."""

    repository: str
    head_sha: str
    pull_request_numbers: tuple[int, ...]  # may be empty: then the head sha finds them


@dataclass(frozen=True, slots=True)
class Pinged:
    """The forge checking that the webhook reaches us (sent when a hook is made)."""

    repository: str | None  # None for an organisation's or an App's hook


ForgeEvent = PullRequestChanged | BranchPushed | RecheckRequested | Pinged
