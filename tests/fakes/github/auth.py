"""Who is calling: personal tokens, the App's RS256 JWT and installation tokens."""

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tests.fakes.github.errors import GitHubError, bad_credentials
from tests.fakes.github.state import Repository, User, now

INSTALLATION_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}
JWT_UNDECODABLE = "A JSON web token could not be decoded"
# GitHub allows a JWT to live at most ten minutes (and tolerates a little clock drift).
JWT_MAX_LIFETIME = 600
CLOCK_DRIFT = 60


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller; `user` is who GitHub shows as the author of what it writes."""

    kind: Literal["user", "installation", "app"]
    user: User
    token: str
    installation_id: int | None = None


@dataclass(slots=True)
class InstallationToken:
    installation_id: int
    expires_at: datetime
    permissions: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class App:
    """The GitHub App: its id, slug, key pair, and the tokens issued for its installations."""

    app_id: int
    slug: str
    bot: User
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    tokens: dict[str, InstallationToken] = field(default_factory=dict)
    # GitHub's installation tokens live one hour; tests shorten it to see clients refresh.
    token_lifetime: timedelta = timedelta(hours=1)

    @property
    def private_key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()

    def jwt(
        self, *, issued_at: int | None = None, lifetime: int = 540, iss: str | None = None
    ) -> str:
        """A JWT as an App would sign it; tests pass odd values to see them refused."""
        iat = int(time.time()) - 30 if issued_at is None else issued_at
        claims = {"iat": iat, "exp": iat + lifetime, "iss": iss or str(self.app_id)}
        head = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        body = _b64url(json.dumps(claims).encode())
        signature = self.key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{_b64url(signature)}"

    def verify_jwt(self, token: str) -> None:
        """Raises 401 with GitHub's wording unless `token` is a live JWT signed by this App."""
        try:
            head_b64, body_b64, signature_b64 = token.split(".")
            header = json.loads(_unb64url(head_b64))
            claims = json.loads(_unb64url(body_b64))
            if header.get("alg") != "RS256":
                raise ValueError("alg")
            self.key.public_key().verify(
                _unb64url(signature_b64),
                f"{head_b64}.{body_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (ValueError, InvalidSignature, AttributeError):
            raise GitHubError(401, JWT_UNDECODABLE) from None
        if not isinstance(claims, dict) or str(claims.get("iss")) != str(self.app_id):
            raise GitHubError(401, JWT_UNDECODABLE)
        iat, exp, moment = claims.get("iat"), claims.get("exp"), int(time.time())
        if not isinstance(iat, int) or iat > moment + CLOCK_DRIFT:
            raise GitHubError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time "
                "that the assertion was issued.",
            )
        if not isinstance(exp, int) or exp <= moment:
            raise GitHubError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing "
                "the future time at which the assertion expires.",
            )
        if exp - iat > JWT_MAX_LIFETIME or exp > moment + JWT_MAX_LIFETIME + CLOCK_DRIFT:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future.")

    def issue_token(
        self, installation_id: int, permissions: dict[str, str]
    ) -> tuple[str, InstallationToken]:
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        issued = InstallationToken(installation_id, now() + self.token_lifetime, permissions)
        self.tokens[token] = issued
        return token, issued

    def expire_tokens(self) -> None:
        for issued in self.tokens.values():
            issued.expires_at = now() - timedelta(seconds=1)


def bearer(authorization: str | None) -> str | None:
    """The token in `Authorization: token X` or `Bearer X` (any case), or None."""
    if not authorization or " " not in authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return None
    return token.strip() or None


def identify(token: str | None, *, personal: dict[str, User], app: App) -> Caller:
    """The caller `token` stands for; raises 401 `Bad credentials` (or a JWT error)."""
    if token is None:
        raise bad_credentials()
    if token in personal:
        return Caller("user", personal[token], token)
    issued = app.tokens.get(token)
    if issued is not None:
        if issued.expires_at <= now():
            raise bad_credentials()
        return Caller("installation", app.bot, token, issued.installation_id)
    if token.count(".") == 2:
        app.verify_jwt(token)
        return Caller("app", app.bot, token)
    raise bad_credentials()


def access(caller: Caller, repo: Repository) -> Literal["none", "read", "write"]:
    """What `caller` may do in `repo`: an installation writes where the App is installed; a
    person writes as owner or collaborator and reads any public repository."""
    if caller.kind == "app":
        return "none"
    if caller.kind == "installation":
        return "write" if repo.installation_id == caller.installation_id else "none"
    if caller.user is repo.owner or caller.user.login in repo.collaborators:
        return "write"
    return "none" if repo.private else "read"
