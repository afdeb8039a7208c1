"""A fake GitHub (REST API, App auth, git smart HTTP, webhooks) modelling the real one strictly."""

from tests.fakes.github.errors import GitHubError
from tests.fakes.github.git import ZERO_SHA
from tests.fakes.github.server import FakeGitHub
from tests.fakes.github.state import CheckRun, Comment, CommitStatus, Merge, PullRequest, Repository
from tests.fakes.github.traffic import LoggedRequest
from tests.fakes.github.webhooks import Delivery, signature

__all__ = [
    "ZERO_SHA",
    "CheckRun",
    "Comment",
    "CommitStatus",
    "Delivery",
    "FakeGitHub",
    "GitHubError",
    "LoggedRequest",
    "Merge",
    "PullRequest",
    "Repository",
    "signature",
]
