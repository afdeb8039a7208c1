"""The options every client command shares, spelled once."""

from typing import Annotated

import typer

CONNECTION = "Connection"

Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="The server's URL. Default: CODEGENAPP_SERVER, your `codegenapp login`, or the "
        "server on this machine.",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="An access token. Default: CODEGENAPP_TOKEN, your login, or the local server's "
        "admin token. Prefer `codegenapp login`: a command line is visible to other users.",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON (stable, for scripts), not a table.")
]
Project = Annotated[str, typer.Option("--project", "-p", help="The project's name or id.")]
ProjectFilter = Annotated[
    str | None,
    typer.Option("--project", "-p", help="Only this project (name or id).", show_default=False),
]
Limit = Annotated[
    int, typer.Option("--limit", "-n", min=1, max=200, help="How many, newest first.")
]
Follow = Annotated[
    bool | None,
    typer.Option(
        "--follow/--no-follow",
        help="Watch the run live until it ends. Default: on when the output is a terminal.",
        show_default=False,
    ),
]
