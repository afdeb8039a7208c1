"""Which server the client commands talk to, and with which token.

In order: `--server`/`--token`; `CODEGENAPP_SERVER`/`CODEGENAPP_TOKEN`; the login that
`codegenapp login` keeps in the user's config directory; a server on this machine
(`http://127.0.0.1:<CODEGENAPP_PORT>`, with `CODEGENAPP_ADMIN_TOKEN` or the admin token that
`codegenapp serve` keeps in its home). A stored token goes only to the server it was stored
for, and the home's token only to the local server: pointing the CLI elsewhere never hands
them to another host.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
from pydantic import ValidationError

from codegenapp.cli.errors import BadInput
from codegenapp.files import make_private_dir, read_regular_file, write_private
from codegenapp.settings import Settings

APP_NAME = "codegenapp"
LOGIN_FILE = "login.json"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name; the server's TOKEN_FILE
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Login:
    """What `codegenapp login` keeps: a server and the token it accepted."""

    server: str
    token: str


@dataclass(frozen=True, slots=True)
class Target:
    """The server to talk to and the token to send, each with where it came from (in words,
    for `codegenapp status` and for error messages)."""

    server: str
    token: str
    server_from: str
    token_from: str


def login_path() -> Path:
    """`<user config dir>/codegenapp/login.json` (on Linux, under `$XDG_CONFIG_HOME`)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / LOGIN_FILE


def stored_login() -> Login | None:
    """The stored login, or None. Raise `BadInput` if the file is there but unreadable."""
    path = login_path()
    try:
        stored = json.loads(read_regular_file(path, limit=MAX_FILE_BYTES))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise BadInput(f"{path}: {error}; run `codegenapp login` again") from error
    fields = stored if isinstance(stored, dict) else {}
    server, token = fields.get("server"), fields.get("token")
    if not isinstance(server, str) or not isinstance(token, str):
        raise BadInput(f"{path} holds no server and token; run `codegenapp login` again")
    return Login(server=server, token=token)


def store_login(login: Login) -> Path:
    """Keep `login` for later commands: the directory 0700, the file 0600, replaced whole."""
    path = login_path()
    make_private_dir(path.parent)
    body = {"server": login.server, "token": login.token}
    write_private(path, (json.dumps(body, indent=2) + "\n").encode())
    return path


def forget_login() -> Login | None:
    """Remove the stored login; the one removed, or None if there was none."""
    login = stored_login()
    if login is not None:
        login_path().unlink()
    return login


def server_url(text: str) -> str:
    """`text` as a server URL without a trailing slash; `BadInput` unless http(s)://host."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"server {text!r}: give a URL such as http://127.0.0.1:8000")
    return url


def resolve(server: str | None, token: str | None, environ: Mapping[str, str]) -> Target:
    """The target of a client command; `BadInput` when no token is known for its server."""
    stored = stored_login()
    url, server_from = choose_server(server, environ, stored)
    found = choose_token(url, token, environ, stored)
    if found is None:
        raise BadInput(missing_token(url))
    return Target(url, found[0], server_from, found[1])


def choose_server(
    server: str | None, environ: Mapping[str, str], stored: Login | None
) -> tuple[str, str]:
    """The server's URL and where it came from."""
    env_server = environ.get("CODEGENAPP_SERVER", "").strip()
    if server:
        return server_url(server), "--server"
    if env_server:
        return server_url(env_server), "CODEGENAPP_SERVER"
    if stored is not None:
        return stored.server, f"the login in {login_path()}"
    return local_server(), "the default: the server on this machine"


def choose_token(
    url: str, token: str | None, environ: Mapping[str, str], stored: Login | None
) -> tuple[str, str] | None:
    """The token for `url` and where it came from, or None if none is known for it."""
    env_token = environ.get("CODEGENAPP_TOKEN", "").strip()
    if token:
        return token.strip(), "--token"
    if env_token:
        return env_token, "CODEGENAPP_TOKEN"
    if stored is not None and stored.server == url:
        return stored.token, f"the login in {login_path()}"
    if url == local_server():
        return local_admin_token()
    return None


def missing_token(url: str) -> str:
    here = f" (and there is no {server_settings().home / ADMIN_TOKEN_FILE})"
    return f"no token for {url}: run `codegenapp login {url}`, or set CODEGENAPP_TOKEN" + (
        here if url == local_server() else ""
    )


def server_settings() -> Settings:
    """The server's settings as this environment gives them; `BadInput` naming a bad one."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise BadInput(f"setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from error


def local_server() -> str:
    """The URL `codegenapp serve` listens on here, by the same settings (CODEGENAPP_PORT)."""
    return f"http://127.0.0.1:{server_settings().port}"


def local_admin_token() -> tuple[str, str] | None:
    """The local server's admin token and where it was found, or None."""
    settings = server_settings()
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value(), "CODEGENAPP_ADMIN_TOKEN"
    path = settings.home / ADMIN_TOKEN_FILE
    try:
        token = read_regular_file(path, limit=MAX_FILE_BYTES).decode().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: {error}") from error
    return (token, f"the server's home ({path})") if token else None
