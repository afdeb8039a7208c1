"""The github forge: repositories and pull requests on GitHub or GitHub Enterprise through its
REST API (githubkit), and snapshots fetched over HTTPS into the shared bare mirrors."""

import asyncio
import base64
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import quote

from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import RequestFailed
from githubkit_schemas.v2022_11_28.rest import RestNamespace

from codegenapp.domain.masking import Masker
from codegenapp.domain.reports import CommitReport
from codegenapp.drivers.forge import (
    DIFF_LIMIT_BYTES,
    ChangeRequest,
    CommitRequest,
    CommitState,
    MergeResult,
    github_push,
)
from codegenapp.drivers.forge.diffs import is_full_sha, three_dot_diff
from codegenapp.drivers.forge.github_auth import GitHubCredentials, Tokens, credentials_from
from codegenapp.drivers.forge.github_payloads import (
    Branch,
    Login,
    Merged,
    Pull,
    Repository,
    read,
    read_pulls,
)
from codegenapp.drivers.forge.github_reports import (
    Author,
    upsert_comment,
    write_check_runs,
    write_statuses,
)
from codegenapp.drivers.forge.github_rest import (
    API_VERSION,
    TIMEOUT_SECONDS,
    GitHubRest,
    forge_error,
    message_of,
    status_of,
)
from codegenapp.drivers.forge.mirror import Mirror
from codegenapp.errors import CodegenAppError, ForgeError, MergeRefused, RepositoryInvalid
from codegenapp.settings import Settings

__all__ = ["GitHubCredentials", "GitHubForge", "github_forge"]

T = TypeVar("T")
MergeMethod = Literal["merge", "squash", "rebase"]
MERGE_METHODS: tuple[MergeMethod, ...] = ("merge", "squash", "rebase")
DESCRIPTION_LIMIT = 140  # GitHub refuses a longer commit status description (422)
PER_PAGE = 100
MAX_PAGES = 50
"""The open pull request list reads at most this many pages (5,000 pull requests)."""
_REPOSITORY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})$")
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


@dataclass(frozen=True, slots=True)
class _Session:
    """One operation's REST client, and the token it holds (for git)."""

    client: GitHub[TokenAuthStrategy]
    token: str = field(repr=False)

    @property
    def api(self) -> RestNamespace:
        # The namespace holds the client weakly; the session keeps it alive.
        return self.client.rest(API_VERSION)


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of the open pull request list, and the ETag that lets it cost nothing when
    it has not changed (GitHub answers 304, which its rate limit does not count)."""

    etag: str | None
    pulls: tuple[ChangeRequest, ...]
    has_next: bool


def _parts(repository: str) -> tuple[str, str]:
    match = _REPOSITORY.match(repository)
    if match is None:
        raise RepositoryInvalid(
            "repository", f"{repository!r} is not a GitHub repository name (OWNER/NAME)"
        )
    return match.group(1), match.group(2)


def _git_auth_env(token: str) -> dict[str, str]:
    """The token as an HTTP header for git, through the environment: never in a URL, the
    mirror's config or a command line (where any local user could read it)."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


class GitHubForge:
    """`Forge` over GitHub repositories named `OWNER/NAME`. Keeps only caches in memory
    (installation tokens, the ETags of the open pull request lists): every fact is on GitHub."""

    name = "github"

    def __init__(
        self,
        credentials: GitHubCredentials,
        *,
        api_url: str,
        mirror_dir: Path,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._credentials = credentials
        self._rest = GitHubRest(api_url, timeout=timeout)
        self._tokens = Tokens(credentials, self._rest)
        self._mirror_dir = mirror_dir
        self._listings: dict[str, tuple[_Page, ...]] = {}
        self._login: str | None = None  # the token's user, once asked (our comments' author)

    async def _call(
        self, repository: str, doing: str, operation: Callable[[_Session], Awaitable[T]]
    ) -> T:
        """Run `operation` with a client for `repository`; GitHub's errors become ours. An App
        token GitHub refuses (401: revoked, or expired before its time) is replaced once."""
        _parts(repository)
        for attempt in (1, 2):
            token = await self._tokens.token_for(repository)
            client = self._rest.client(TokenAuthStrategy(token))
            try:
                return await operation(_Session(client, token))
            except CodegenAppError:
                raise
            except Exception as error:
                if status_of(error) == 401 and self._credentials.is_app and attempt == 1:
                    self._tokens.forget(repository)
                    continue
                raise forge_error(error, doing, self._credentials.described) from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def check_repository(self, repository: str, *, default_branch: str) -> None:
        owner, name = _parts(repository)

        async def check(session: _Session) -> None:
            try:
                await session.api.repos.async_get(owner, name)
            except RequestFailed as error:
                if status_of(error) not in (403, 404):
                    raise
                hint = (
                    f": is it installed on {repository}?"
                    if self._credentials.is_app
                    else ": can that token's account see it?"
                )
                raise RepositoryInvalid(
                    "repository",
                    f"{repository} is not reachable {self._credentials.described}{hint}",
                ) from None
            if await self._branch_sha(session, owner, name, default_branch) is None:
                raise RepositoryInvalid(
                    "default_branch", f"{repository} has no branch {default_branch!r}"
                )

        await self._call(repository, f"check {repository}", check)

    async def fetch_snapshot(self, repository: str, sha: str, dest: Path) -> None:
        owner, name = _parts(repository)
        if not _FULL_SHA.match(sha):
            raise ForgeError(f"{sha!r} is not a full commit id (40 or 64 lowercase hex digits)")
        if await asyncio.to_thread(dest.exists):
            raise ForgeError(f"snapshot destination {dest} already exists")

        async def snapshot(session: _Session) -> None:
            found = await session.api.repos.async_get(owner, name)
            # The URL GitHub gives, never one built here: Enterprise hosts git elsewhere.
            mirror = Mirror.of(self._mirror_dir, read(Repository, found.raw_response).clone_url)
            env = _git_auth_env(session.token)
            try:
                await mirror.snapshot(sha, dest, remote_env=env)
            except ForgeError as error:
                masker = Masker.for_secrets([session.token, env["GIT_CONFIG_VALUE_0"]])
                raise ForgeError(masker.mask(str(error))) from None

        try:
            await self._call(repository, f"fetch {sha} of {repository}", snapshot)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, dest, ignore_errors=True)
            raise

    async def open_change_request(
        self, repository: str, *, head_branch: str, base_branch: str, title: str, body: str
    ) -> ChangeRequest:
        owner, name = _parts(repository)

        async def open_one(session: _Session) -> ChangeRequest:
            found = await self._open_from(session, owner, name, head_branch, base_branch)
            if found is not None:
                return found
            try:
                created = await session.api.pulls.async_create(
                    owner, name, title=title, head=head_branch, base=base_branch, body=body
                )
            except RequestFailed as error:
                if status_of(error) != 422:
                    raise
                # Another worker may have opened it a moment ago; otherwise GitHub says why
                # (no such branch, no commits between the branches).
                again = await self._open_from(session, owner, name, head_branch, base_branch)
                if again is not None:
                    return again
                raise ForgeError(
                    f"could not open a pull request from {head_branch!r} into "
                    f"{base_branch!r} in {repository}: {message_of(error)}"
                ) from None
            return read(Pull, created.raw_response).change()

        return await self._call(repository, f"open a pull request in {repository}", open_one)

    async def _open_from(
        self, session: _Session, owner: str, name: str, head_branch: str, base_branch: str
    ) -> ChangeRequest | None:
        """The open pull request from `head_branch`, preferring one into `base_branch`."""
        answer = await session.api.pulls.async_list(
            owner, name, state="open", head=f"{owner}:{head_branch}", per_page=PER_PAGE
        )
        pulls = read_pulls(answer.raw_response)
        ordered = sorted(pulls, key=lambda pull: (pull.base.ref != base_branch, pull.number))
        return ordered[0].change() if ordered else None

    async def push_commit(self, repository: str, change: CommitRequest) -> str:
        owner, name = _parts(repository)

        async def push(session: _Session) -> str:
            found = await session.api.repos.async_get(owner, name)
            clone_url = read(Repository, found.raw_response).clone_url
            env = _git_auth_env(session.token)
            masker = Masker.for_secrets([session.token, env["GIT_CONFIG_VALUE_0"]])
            try:
                pushed = await github_push.push_commit(
                    Mirror.of(self._mirror_dir, clone_url), clone_url, change, remote_env=env
                )
            except ForgeError as error:
                raise ForgeError(masker.mask(str(error))) from None
            if pushed.accepted:
                return pushed.commit
            if await self._branch_sha(session, owner, name, change.branch) == pushed.commit:
                return pushed.commit  # a replay: it was pushed before
            raise ForgeError(
                f"could not push {change.branch!r} to {repository} (did someone else push to "
                f"it?): {masker.mask(pushed.stderr.strip())}"
            )

        return await self._call(repository, f"push {change.branch!r} to {repository}", push)

    async def branch_head(self, repository: str, branch: str) -> str | None:
        owner, name = _parts(repository)

        async def head(session: _Session) -> str | None:
            return await self._branch_sha(session, owner, name, branch)

        return await self._call(repository, f"read branch {branch!r} of {repository}", head)

    @staticmethod
    async def _branch_sha(session: _Session, owner: str, name: str, branch: str) -> str | None:
        try:
            answer = await session.api.repos.async_get_branch(owner, name, quote(branch))
        except RequestFailed as error:
            if status_of(error) == 404:
                return None
            raise
        return read(Branch, answer.raw_response).commit.sha

    async def get_change_request(self, repository: str, number: int) -> ChangeRequest | None:
        owner, name = _parts(repository)

        async def get(session: _Session) -> ChangeRequest | None:
            try:
                answer = await session.api.pulls.async_get(owner, name, number)
            except RequestFailed as error:
                if status_of(error) == 404:
                    return None
                raise
            return read(Pull, answer.raw_response).change()

        return await self._call(repository, f"read pull request #{number} of {repository}", get)

    async def diff(
        self, repository: str, base: str, head: str, *, max_bytes: int = DIFF_LIMIT_BYTES
    ) -> str:
        """Read by git in the repository's mirror (the one snapshots come from), not through
        the compare API: GitHub's diff there stops at a size and file count of its own, and is
        not git's text in every detail; the mirror's is exactly what `git diff` prints, cut
        only where `max_bytes` says. A branch `base` is read through the API (the mirror's
        copy of the branch may be old)."""
        owner, name = _parts(repository)
        if not _FULL_SHA.match(head):
            raise ForgeError(f"{head!r} is not a full commit id (40 or 64 lowercase hex digits)")

        async def read_diff(session: _Session) -> str:
            base_sha = base
            if not is_full_sha(base):
                found_sha = await self._branch_sha(session, owner, name, base)
                if found_sha is None:
                    raise ForgeError(f"branch {base!r} does not exist in {repository}")
                base_sha = found_sha
            found = await session.api.repos.async_get(owner, name)
            mirror = Mirror.of(self._mirror_dir, read(Repository, found.raw_response).clone_url)
            env = _git_auth_env(session.token)
            try:
                await mirror.ensure(head, remote_env=env)
                await mirror.ensure(base_sha, remote_env=env)
            except ForgeError as error:
                masker = Masker.for_secrets([session.token, env["GIT_CONFIG_VALUE_0"]])
                raise ForgeError(masker.mask(str(error))) from None
            return await three_dot_diff(
                mirror.path, base_sha, head, max_bytes=max_bytes, where=repository
            )

        return await self._call(
            repository, f"diff {head} against {base} in {repository}", read_diff
        )

    async def list_open_change_requests(self, repository: str) -> list[ChangeRequest]:
        """Oldest first. Each page is asked for with the ETag of its last answer, so an
        unchanged list costs no rate limit; oldest first also keeps the earlier pages unchanged
        when a pull request is opened."""
        owner, name = _parts(repository)

        async def listing(session: _Session) -> tuple[_Page, ...]:
            known = self._listings.get(repository, ())
            pages: list[_Page] = []
            for number in range(1, MAX_PAGES + 1):
                before = known[number - 1] if number <= len(known) else None
                pages.append(await self._page(session, owner, name, number, before))
                if not pages[-1].has_next:
                    break
            return tuple(pages)

        pages = await self._call(repository, f"list the pull requests of {repository}", listing)
        self._listings[repository] = pages
        # A pull request that moved to another page while the pages were read shows once.
        unique = {pull.number: pull for page in pages for pull in page.pulls}
        return sorted(unique.values(), key=lambda pull: pull.number)

    @staticmethod
    async def _page(
        session: _Session, owner: str, name: str, number: int, before: _Page | None
    ) -> _Page:
        conditional = {"If-None-Match": before.etag} if before and before.etag else None
        answer = await session.api.pulls.async_list(
            owner,
            name,
            state="open",
            sort="created",
            direction="asc",
            per_page=PER_PAGE,
            page=number,
            headers=conditional,
        )
        if answer.status_code == 304 and before is not None:
            return before
        return _Page(
            etag=answer.headers.get("ETag"),
            pulls=tuple(pull.change() for pull in read_pulls(answer.raw_response)),
            has_next='rel="next"' in answer.headers.get("Link", ""),
        )

    async def comment(self, repository: str, number: int, body: str) -> None:
        owner, name = _parts(repository)

        async def add(session: _Session) -> None:
            await session.api.issues.async_create_comment(owner, name, number, body=body)

        await self._call(repository, f"comment on pull request #{number} of {repository}", add)

    async def set_commit_status(
        self, repository: str, sha: str, *, context: str, state: CommitState, description: str
    ) -> None:
        owner, name = _parts(repository)
        if len(description) > DESCRIPTION_LIMIT:
            description = description[: DESCRIPTION_LIMIT - 1] + "…"

        async def set_status(session: _Session) -> None:
            await session.api.repos.async_create_commit_status(
                owner, name, sha, state=state.value, context=context, description=description
            )

        doing = f"set status {context!r} on {sha} in {repository}"
        await self._call(repository, doing, set_status)

    async def report(self, repository: str, sha: str, report: CommitReport) -> None:
        """Check runs with an App (a token may not write them: GitHub answers 403), commit
        statuses with a token, or with an App whose installation lacks the checks permission."""
        owner, name = _parts(repository)

        async def write(session: _Session) -> None:
            if self._credentials.is_app:
                try:
                    await write_check_runs(session.client, owner, name, sha, report)
                    return
                except RequestFailed as error:
                    if status_of(error) != 403:
                        raise
            await write_statuses(session.client, owner, name, sha, report)

        await self._call(repository, f"report on {sha} in {repository}", write)

    async def upsert_comment(self, repository: str, number: int, *, marker: str, body: str) -> None:
        owner, name = _parts(repository)

        async def upsert(session: _Session) -> None:
            author = await self._author(session)
            await upsert_comment(
                session.client, owner, name, number, marker=marker, body=body, author=author
            )

        doing = f"write the report comment on pull request #{number} of {repository}"
        await self._call(repository, doing, upsert)

    async def _author(self, session: _Session) -> Author:
        if self._credentials.app_id is not None:
            return Author(app_id=self._credentials.app_id)
        if self._login is None:
            answer = await session.api.users.async_get_authenticated()
            self._login = read(Login, answer.raw_response).login
        return Author(login=self._login)

    async def merge(
        self,
        repository: str,
        number: int,
        *,
        expected_head_sha: str,
        message: str,
        method: str = "merge",
    ) -> MergeResult:
        """GitHub itself guards the head: the merge passes `sha`, so a moved head is refused
        (409) as is a conflict (405); either becomes `MergeRefused` with GitHub's words."""
        owner, name = _parts(repository)
        merge_method = next((m for m in MERGE_METHODS if m == method), None)
        if merge_method is None:
            raise ForgeError(f"merge method {method!r} is not one of {', '.join(MERGE_METHODS)}")
        title, _, rest = message.partition("\n")

        async def merge_one(session: _Session) -> MergeResult:
            try:
                answer = await session.api.pulls.async_merge(
                    owner,
                    name,
                    number,
                    sha=expected_head_sha,
                    merge_method=merge_method,
                    commit_title=title.strip() or f"Merge pull request #{number}",
                    commit_message=rest.strip(),
                )
            except RequestFailed as error:
                if status_of(error) not in (405, 409):
                    raise
                return await self._merged_before(
                    session, owner, name, number, expected_head_sha, error
                )
            merged = read(Merged, answer.raw_response)
            return MergeResult(number, expected_head_sha, merged.sha, already_merged=False)

        return await self._call(repository, f"merge #{number} of {repository}", merge_one)

    @staticmethod
    async def _merged_before(
        session: _Session,
        owner: str,
        name: str,
        number: int,
        expected_head_sha: str,
        refusal: RequestFailed,
    ) -> MergeResult:
        """The answer to a refused merge: the earlier merge, if it was of this head (a repeated
        call); else `MergeRefused` with GitHub's reason."""
        answer = await session.api.pulls.async_get(owner, name, number)
        pull = read(Pull, answer.raw_response)
        if pull.merged and pull.merge_commit_sha:
            if pull.head.sha == expected_head_sha:
                return MergeResult(
                    number, expected_head_sha, pull.merge_commit_sha, already_merged=True
                )
            raise MergeRefused(
                f"pull request #{number} was merged at {pull.head.sha}, not at the expected "
                f"head {expected_head_sha}"
            )
        raise MergeRefused(f"GitHub refused to merge pull request #{number}: {message_of(refusal)}")


def github_forge(settings: Settings, mirror_dir: Path) -> GitHubForge | None:
    """The github forge the settings describe, or None when no GitHub credentials are set."""
    credentials = credentials_from(settings)
    if credentials is None:
        return None
    return GitHubForge(credentials, api_url=settings.github_api_url, mirror_dir=mirror_dir)
