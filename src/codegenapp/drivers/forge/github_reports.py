"""How the github forge shows a validation: check runs (an App's), commit statuses (a token's)
and the pull request's one report comment, each found again on GitHub before it is written,
so that nothing about them is kept here and a repeated call writes only what changed."""

from dataclasses import dataclass
from typing import Literal, TypeVar

from githubkit import GitHub, TokenAuthStrategy
from githubkit_schemas.v2022_11_28.rest import RestNamespace
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from codegenapp.domain.reports import CheckReport, CommitReport, ReportState
from codegenapp.drivers.forge.github_rest import API_VERSION
from codegenapp.errors import ForgeError

PER_PAGE = 100
MAX_PAGES = 10
"""At most this many pages of check runs or comments are read looking for ours (1,000)."""
DESCRIPTION_LIMIT = 140  # GitHub refuses a longer commit status description (422)
TITLE_LIMIT = 255
StatusState = Literal["error", "failure", "pending", "success"]
_STATUS_STATES: dict[ReportState, StatusState] = {
    ReportState.QUEUED: "pending",
    ReportState.IN_PROGRESS: "pending",
    ReportState.SUCCESS: "success",
    ReportState.FAILURE: "failure",
    # A commit status has no "cancelled"; "error" keeps a required status from passing.
    ReportState.CANCELLED: "error",
}
Client = GitHub[TokenAuthStrategy]
T = TypeVar("T")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Output(_Answer):
    title: str | None = None
    summary: str | None = None


class _CheckRun(_Answer):
    id: int
    name: str
    external_id: str | None = None
    status: str
    conclusion: str | None = None
    details_url: str | None = None
    output: _Output = _Output()


class _CheckRuns(_Answer):
    check_runs: tuple[_CheckRun, ...]


class _Status(_Answer):
    context: str
    state: str


class _Combined(_Answer):
    statuses: tuple[_Status, ...]


class _Login(_Answer):
    login: str


class _AppRef(_Answer):
    id: int


class _Comment(_Answer):
    id: int
    body: str | None = None
    user: _Login | None = None
    performed_via_github_app: _AppRef | None = None


@dataclass(frozen=True, slots=True)
class Author:
    """Who writes our comments: our App (GitHub records it on each comment written through
    it), or the token's user. Only a comment of ours is ever edited: anyone can copy the
    marker into a comment of their own."""

    app_id: int | None = None
    login: str | None = None

    def wrote(self, comment: _Comment) -> bool:
        if self.app_id is not None:
            via = comment.performed_via_github_app
            return via is not None and via.id == self.app_id
        user = comment.user
        return (
            user is not None and self.login is not None and user.login.lower() == self.login.lower()
        )


_COMMENTS = TypeAdapter(tuple[_Comment, ...])


def _read(adapter: TypeAdapter[T], content: bytes) -> T:
    try:
        return adapter.validate_json(content)
    except ValidationError as error:
        why = error.errors()[0]["msg"]
        raise ForgeError(f"GitHub's answer lacks what we need: {why}") from None


def _api(client: Client) -> RestNamespace:
    return client.rest(API_VERSION)


async def write_check_runs(
    client: Client, owner: str, name: str, sha: str, report: CommitReport
) -> None:
    """One check run per check, found again by `external_id` and name and patched only where
    it differs; created otherwise. Raise `RequestFailed` 403 when the credentials may not."""
    ours = {run.name: run for run in await _check_runs(client, owner, name, sha, report)}
    base = f"/repos/{owner}/{name}/check-runs"
    headers = {"X-GitHub-Api-Version": API_VERSION}
    for check in report.checks:
        body = _check_body(check)
        found = ours.get(check.name)
        if found is None:
            create = {"name": check.name, "head_sha": sha, "external_id": report.external_id}
            await client.arequest("POST", base, json={**create, **body}, headers=headers)
        elif _differs(found, check):
            await client.arequest("PATCH", f"{base}/{found.id}", json=body, headers=headers)


async def _check_runs(
    client: Client, owner: str, name: str, sha: str, report: CommitReport
) -> list[_CheckRun]:
    """The check runs of this report's validation on `sha`, oldest first per name."""
    found: list[_CheckRun] = []
    for page in range(1, MAX_PAGES + 1):
        answer = await _api(client).checks.async_list_for_ref(
            owner, name, sha, filter_="all", per_page=PER_PAGE, page=page
        )
        runs = _read(TypeAdapter(_CheckRuns), answer.raw_response.content).check_runs
        found += [run for run in runs if run.external_id == report.external_id]
        if len(runs) < PER_PAGE:
            break
    # GitHub lists the newest first; the oldest of a name is the one we keep writing to.
    return list(reversed(found))


def _check_body(check: CheckReport) -> dict[str, object]:
    body: dict[str, object] = {
        "output": {"title": check.title[:TITLE_LIMIT], "summary": check.summary},
    }
    if check.details_url:
        body["details_url"] = check.details_url
    if check.state.is_final:
        body |= {"status": "completed", "conclusion": check.state.value}
    else:
        body["status"] = check.state.value
    return body


def _differs(run: _CheckRun, check: CheckReport) -> bool:
    state = run.conclusion if run.status == "completed" else run.status
    return (
        state != check.state.value
        or run.output.title != check.title[:TITLE_LIMIT]
        or run.output.summary != check.summary
        or (check.details_url is not None and run.details_url != check.details_url)
    )


async def write_statuses(
    client: Client, owner: str, name: str, sha: str, report: CommitReport
) -> None:
    """The aggregate as one commit status, context its name; not repeated while its state
    holds (every status GitHub keeps is a new row). The per-check runs have no status twin:
    a token's report stays the one status it always was."""
    answer = await _api(client).repos.async_get_combined_status_for_ref(
        owner, name, sha, per_page=PER_PAGE
    )
    combined = _read(TypeAdapter(_Combined), answer.raw_response.content)
    latest = {status.context: status.state for status in combined.statuses}
    check = report.aggregate
    state = _STATUS_STATES[check.state]
    if latest.get(check.name) != state:
        description = check.title
        if len(description) > DESCRIPTION_LIMIT:
            description = description[: DESCRIPTION_LIMIT - 1] + "…"
        await _api(client).repos.async_create_commit_status(
            owner,
            name,
            sha,
            state=state,
            context=check.name,
            description=description,
            target_url=check.details_url or None,
        )


async def upsert_comment(
    client: Client, owner: str, name: str, number: int, *, marker: str, body: str, author: Author
) -> None:
    """Edit the first comment of ours holding `marker` to read `body`, or add one."""
    found = await _marked_comment(client, owner, name, number, marker, author)
    if found is None:
        await _api(client).issues.async_create_comment(owner, name, number, body=body)
    elif found.body != body:
        await _api(client).issues.async_update_comment(owner, name, found.id, body=body)


async def _marked_comment(
    client: Client, owner: str, name: str, number: int, marker: str, author: Author
) -> _Comment | None:
    for page in range(1, MAX_PAGES + 1):
        answer = await _api(client).issues.async_list_comments(
            owner, name, number, per_page=PER_PAGE, page=page
        )
        comments = _read(_COMMENTS, answer.raw_response.content)
        marked = next(
            (c for c in comments if c.body and marker in c.body and author.wrote(c)), None
        )
        if marked is not None or len(comments) < PER_PAGE:
            return marked
    return None
