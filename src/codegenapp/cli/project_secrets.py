"""A project's secrets: set (the value read from a prompt or standard input, never from the
command line, where other users could see it), list by name, delete."""

import sys
from typing import Annotated, cast

import typer

from codegenapp.cli import options
from codegenapp.cli.client import connect, project_id
from codegenapp.cli.errors import BadInput
from codegenapp.cli.output import console, print_json, print_table, when
from codegenapp.cli.shapes import Secret

app = typer.Typer(help="A project's secrets: set, list, delete.", no_args_is_help=True)
Name = Annotated[
    str, typer.Argument(help="The environment variable the project's commands read it from.")
]


@app.command("set")
def set_secret(
    name: Name,
    project: options.Project,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Create or replace a secret; its value is read from the prompt or standard input.

    Example: printf %s "$NPM_TOKEN" | codegenapp secrets set NPM_TOKEN --project shop
    """
    if sys.stdin.isatty():
        value = typer.prompt(f"Value of {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read().removesuffix("\n")
    if not value:
        raise BadInput(f"no value for {name}: type it at the prompt or pipe it in")
    with connect(server, token) as client:
        ident = project_id(client, project)
        stored = cast(
            Secret, client.post(f"/api/v1/projects/{ident}/secrets", {"name": name, "value": value})
        )
    if as_json:
        print_json(stored)
    else:
        print(f"secret {stored['name']} set on project {project}")


@app.command("list")
def list_secrets(
    project: options.Project,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """List a project's secrets by name (values are never shown).

    Example: codegenapp secrets list --project shop
    """
    with connect(server, token) as client:
        items = cast(
            list[Secret], client.items(f"/api/v1/projects/{project_id(client, project)}/secrets")
        )
    if as_json:
        print_json(items)
        return
    print_table(
        ["NAME", "UPDATED"],
        ([item["name"], when(item["updated_at"])] for item in items),
        empty=f"Project {project} has no secrets.",
        out=console(),
    )


@app.command("delete")
def delete(
    name: Name,
    project: options.Project,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Delete a secret.

    Example: codegenapp secrets delete NPM_TOKEN --project shop
    """
    with connect(server, token) as client:
        client.delete(f"/api/v1/projects/{project_id(client, project)}/secrets/{name}")
    print(f"secret {name} deleted from project {project}")
