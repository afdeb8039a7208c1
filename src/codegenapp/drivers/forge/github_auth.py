"""Who the github forge acts as: a token as it is, or a GitHub App through the short-lived
token of its installation on each repository."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from githubkit import AppAuthStrategy, GitHub

from codegenapp.drivers.forge.github_payloads import Installation, InstallationToken, read
from codegenapp.drivers.forge.github_rest import API_VERSION, GitHubRest, forge_error, status_of
from codegenapp.errors import ForgeError, RepositoryInvalid
from codegenapp.settings import Settings

PRIVATE_KEY_LIMIT = 64 * 1024  # a 4096-bit RSA key in PEM is about 3.3 KiB
REFRESH_BEFORE_EXPIRY = timedelta(minutes=5)
"""An installation token is replaced this long before it expires, so that a long clone or a
retried call never starts with a token that dies halfway (GitHub's tokens live one hour)."""


@dataclass(frozen=True, slots=True)
class GitHubCredentials:
    """A token (personal or fine-grained), or a GitHub App's id and private key (PEM). The
    secrets never appear in `repr`, so a logged or raised value cannot leak them."""

    token: str | None = field(default=None, repr=False)
    app_id: int | None = None
    private_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        app = self.app_id is not None and bool(self.private_key)
        if app == bool(self.token):
            raise ValueError("give either a token or an App id with its private key")

    @property
    def is_app(self) -> bool:
        return self.app_id is not None

    @property
    def described(self) -> str:
        """How the credentials are named in messages: the setting, never the secret."""
        return f"with the GitHub App {self.app_id}" if self.is_app else "with GITHUB_TOKEN"


@dataclass(frozen=True, slots=True)
class _Issued:
    token: str = field(repr=False)
    expires_at: datetime


class Tokens:
    """The token to call GitHub with for a repository. For an App: its installation on the
    repository, found once, and that installation's token, kept in memory and replaced
    `REFRESH_BEFORE_EXPIRY` before it expires (or at once after GitHub refused it)."""

    def __init__(self, credentials: GitHubCredentials, rest: GitHubRest) -> None:
        self.credentials = credentials
        self._rest = rest
        self._installations: dict[str, int] = {}
        self._issued: dict[int, _Issued] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def token_for(self, repository: str) -> str:
        """Raise `RepositoryInvalid` (field `repository`) if the App is not installed there."""
        if self.credentials.token is not None:
            return self.credentials.token
        installation = await self._installation(repository)
        # One refresh per installation at a time: concurrent callers share the new token.
        async with self._locks.setdefault(installation, asyncio.Lock()):
            issued = self._issued.get(installation)
            if issued is None or issued.expires_at - REFRESH_BEFORE_EXPIRY <= datetime.now(UTC):
                issued = await self._issue(installation, repository)
                self._issued[installation] = issued
            return issued.token

    def forget(self, repository: str) -> None:
        """Drop what is known for `repository` after GitHub refused its token (revoked, expired
        early, the App reinstalled): the next `token_for` asks GitHub again."""
        installation = self._installations.pop(repository, None)
        if installation is not None:
            self._issued.pop(installation, None)

    def _app(self) -> GitHub[AppAuthStrategy]:
        """A client that signs in as the App (a JWT): only for the installation endpoints."""
        assert self.credentials.app_id is not None
        assert self.credentials.private_key is not None
        strategy = AppAuthStrategy(self.credentials.app_id, self.credentials.private_key)
        return self._rest.client(strategy)

    async def _installation(self, repository: str) -> int:
        known = self._installations.get(repository)
        if known is not None:
            return known
        owner, name = repository.split("/")
        # The namespace holds its client weakly: the client must outlive the call.
        app = self._app()
        try:
            answer = await app.rest(API_VERSION).apps.async_get_repo_installation(owner, name)
        except Exception as error:
            if status_of(error) == 404:
                raise RepositoryInvalid(
                    "repository",
                    f"{repository} is not reachable {self.credentials.described}: "
                    f"is it installed on {repository}?",
                ) from None
            doing = f"find the installation on {repository}"
            raise forge_error(error, doing, self.credentials.described) from None
        installation = read(Installation, answer.raw_response).id
        self._installations[repository] = installation
        return installation

    async def _issue(self, installation: int, repository: str) -> _Issued:
        app = self._app()
        try:
            answer = await app.rest(API_VERSION).apps.async_create_installation_access_token(
                installation
            )
            issued = read(InstallationToken, answer.raw_response)
        except Exception as error:
            doing = f"get a token for the installation on {repository}"
            raise forge_error(error, doing, self.credentials.described) from None
        return _Issued(issued.token, issued.expires_at)


def credentials_from(settings: Settings) -> GitHubCredentials | None:
    """The GitHub credentials the settings give, the App first; None when there are none.
    Raise `ForgeError` for an App id without a readable private key."""
    if settings.github_app_id is not None:
        key = settings.github_app_private_key
        pem = key.get_secret_value() if key is not None else None
        if not pem and settings.github_app_private_key_file is not None:
            pem = _read_private_key(settings.github_app_private_key_file)
        if not pem:
            raise ForgeError(
                "GITHUB_APP_ID is set but neither GITHUB_APP_PRIVATE_KEY nor "
                "GITHUB_APP_PRIVATE_KEY_FILE gives its private key"
            )
        return GitHubCredentials(app_id=settings.github_app_id, private_key=pem)
    token = settings.github_token.get_secret_value() if settings.github_token else ""
    return GitHubCredentials(token=token) if token else None


def _read_private_key(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(PRIVATE_KEY_LIMIT + 1)
    except OSError as error:
        raise ForgeError(f"GITHUB_APP_PRIVATE_KEY_FILE {path} cannot be read: {error}") from None
    if len(data) > PRIVATE_KEY_LIMIT or b"PRIVATE KEY" not in data:
        raise ForgeError(f"GITHUB_APP_PRIVATE_KEY_FILE {path} does not hold a PEM private key")
    return data.decode("ascii", errors="replace")
