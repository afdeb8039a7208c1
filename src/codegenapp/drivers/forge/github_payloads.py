"""The few fields of GitHub's REST answers the github forge reads.

githubkit's own models validate every field GitHub documents, so an answer that lacks one
(GitHub Enterprise Server lags github.com; GitHub drops fields between API versions) fails as
a whole. Like the webhook reader, we read only what we use, and ignore the rest."""

from datetime import datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from codegenapp.drivers.forge import ChangeRequest, ChangeState
from codegenapp.errors import ForgeError


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Ref(_Payload):
    ref: str
    sha: str


class User(_Payload):
    login: str


Login = User  # the authenticated user (GET /user): only the login is read


class Pull(_Payload):
    number: int
    html_url: str
    title: str
    state: str
    head: Ref
    base: Ref
    user: User | None = None  # GitHub gives it; None only for a deleted account ("ghost")
    draft: bool = False
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None

    @property
    def merged(self) -> bool:
        return self.merged_at is not None

    def change(self) -> ChangeRequest:
        return ChangeRequest(
            number=self.number,
            url=self.html_url,
            title=self.title,
            head_branch=self.head.ref,
            base_branch=self.base.ref,
            head_sha=self.head.sha,
            state=ChangeState.MERGED if self.merged else ChangeState(self.state),
            # GitHub fills it for open pull requests too (a test merge): only a merge's counts.
            merge_sha=self.merge_commit_sha if self.merged else None,
            author=self.user.login if self.user else "ghost",
            draft=self.draft,
        )


class Repository(_Payload):
    clone_url: str


class _Commit(_Payload):
    sha: str


class Branch(_Payload):
    commit: _Commit


class Merged(_Payload):
    sha: str


class Installation(_Payload):
    id: int


class InstallationToken(_Payload):
    token: str
    expires_at: datetime


P = TypeVar("P", bound=_Payload)
_PULLS = TypeAdapter(tuple[Pull, ...])


def read(model: type[P], answer: httpx.Response) -> P:
    """The answer's body as `model`; raise `ForgeError` if it lacks what we need."""
    try:
        return model.model_validate_json(answer.content)
    except ValidationError as error:
        raise _not_understood(answer, error) from None


def read_pulls(answer: httpx.Response) -> tuple[Pull, ...]:
    """A page of pull requests; raise `ForgeError` if one lacks what we need."""
    try:
        return _PULLS.validate_json(answer.content)
    except ValidationError as error:
        raise _not_understood(answer, error) from None


def _not_understood(answer: httpx.Response, error: ValidationError) -> ForgeError:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the body"
    return ForgeError(
        f"GitHub's answer to {answer.request.method} {answer.request.url.path} is not what "
        f"its documentation says ({where}: {problem['msg']})"
    )
