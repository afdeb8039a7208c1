"""`codegenapp login`, `logout` and `status`: where the client commands point, and with what."""

import os
import sys
from typing import Annotated, cast

import typer
from rich.text import Text

from codegenapp.cli import options
from codegenapp.cli.client import Client
from codegenapp.cli.credentials import (
    Login,
    Target,
    choose_server,
    choose_token,
    forget_login,
    local_admin_token,
    local_server,
    login_path,
    missing_token,
    server_url,
    store_login,
    stored_login,
)
from codegenapp.cli.errors import BadInput, Failed
from codegenapp.cli.output import console, print_fields, print_json, when
from codegenapp.cli.shapes import Token, WhoAmI


def login(
    server: Annotated[
        str | None,
        typer.Argument(
            help="The server's URL. Default: CODEGENAPP_SERVER, else the server on this machine.",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="The token. Default: asked for on a terminal, read from standard input "
            "otherwise; on this machine's server, its admin token.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Sign in to a server: check the token there, then keep both for later commands.

    The login is kept in your config directory (0600), as `gh auth login` does;
    CODEGENAPP_SERVER and CODEGENAPP_TOKEN still override it.

    Example: codegenapp login https://ci.example.com   (then paste the token)
    """
    env_server = os.environ.get("CODEGENAPP_SERVER", "").strip()
    url = server_url(server or env_server) if server or env_server else local_server()
    given, source = (token.strip(), "--token") if token else _ask_token(url)
    version = check(Target(url, given, "the command line", source))["server_version"]
    path = store_login(Login(server=url, token=given))
    print(f"Logged in to {url} (CodegenApp {version}), with the token from {source}.")
    print(f"Kept in {path}; `codegenapp logout` forgets it.")


def _ask_token(url: str) -> tuple[str, str]:
    if url == local_server() and (found := local_admin_token()) is not None:
        return found
    if sys.stdin.isatty():
        typed = typer.prompt(f"Token for {url}", hide_input=True, err=True)
        source = "the prompt"
    else:
        typed = sys.stdin.readline()
        source = "standard input"
    if not typed.strip():
        raise BadInput(f"no token for {url}: pass --token, type it at the prompt or pipe it in")
    return typed.strip(), source


def check(target: Target) -> WhoAmI:
    """The token as the server knows it (its name, id, times) and the server's version, once
    the server has accepted the token; `Failed` saying what did not work (no server, or the
    token refused)."""
    with Client(target, timeout=10) as client:
        return cast(WhoAmI, client.get("/api/v1/whoami"))


def logout() -> None:
    """Forget the stored login (the token stays valid on the server).

    Example: codegenapp logout
    """
    login = forget_login()
    if login is None:
        print(f"Not logged in (there is no {login_path()}).")
    else:
        print(f"Logged out of {login.server}: removed {login_path()}.")


def status(
    server: options.Server = None, token: options.Token = None, as_json: options.Json = False
) -> None:
    """Say which server the commands talk to and why, its version, and which token it takes
    yours for (its name, never the token).

    Exit code 1 when the server cannot be reached or refuses the token.

    Example: codegenapp status
    """
    stored = stored_login()
    url, server_from = choose_server(server, os.environ, stored)
    found = choose_token(url, token, os.environ, stored)
    report: dict[str, object] = {
        "server": url,
        "server_from": server_from,
        "token_from": found[1] if found else None,
        "login_file": str(login_path()) if stored else None,
    }
    problem: Failed | BadInput | None = None
    who: WhoAmI | None = None
    if found is None:
        problem = BadInput(missing_token(url))
    else:
        try:
            who = check(Target(url, found[0], server_from, found[1]))
        except (Failed, BadInput) as error:
            problem = error
    report["version"] = who["server_version"] if who else None
    report["signed_in_as"] = who["token"] if who else None
    report["token_works"] = problem is None
    if as_json:
        print_json(report)
    else:
        out = console()
        print_fields(
            [
                ("server", f"{url} (from {server_from})"),
                ("token", f"…{found[0][-4:]} (from {found[1]})" if found else "none"),
                ("version", f"CodegenApp {who['server_version']}" if who else ""),
            ],
            out=out,
        )
        if who is not None:
            out.print(Text(signed_in(who["token"])))
    if problem is not None:
        raise Failed(str(problem))


def signed_in(token: Token) -> str:
    """`signed in as token '<name>' (id 1, created …, last used …)`."""
    used = f", last used {when(token['last_used_at'])}" if token["last_used_at"] else ""
    return (
        f"signed in as token '{token['name']}' (id {token['id']}, "
        f"created {when(token['created_at'])}{used})"
    )
