"""Projects: the repositories the server works on, with their agent and settings."""

import json
import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.text import Text

from codegenapp.cli import options
from codegenapp.cli.client import connect, project_id
from codegenapp.cli.errors import BadInput, Failed
from codegenapp.cli.output import console, print_fields, print_json, print_table, when
from codegenapp.cli.shapes import Project

app = typer.Typer(help="Projects: list, show, add, edit, delete.", no_args_is_help=True)
ProjectArgument = Annotated[str, typer.Argument(metavar="PROJECT", help="Its name or id.")]
SETTINGS_SECTIONS = ("deployment_settings", "validation_settings", "notification_settings")
Recipe = Annotated[
    Path | None,
    typer.Option(
        help="The scripted agent's recipe (YAML), read here and sent.", show_default=False
    ),
]
SettingsFile = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="A JSON file of project fields: deployment_settings, validation_settings, "
        "notification_settings, agent, forge (see the README's Project settings).",
        show_default=False,
    ),
]


@app.command("list")
def list_projects(
    as_json: options.Json = False, server: options.Server = None, token: options.Token = None
) -> None:
    """List projects.

    Example: codegenapp projects list
    """
    with connect(server, token) as client:
        items = cast(list[Project], client.pages("/api/v1/projects"))
    if as_json:
        print_json(items)
        return
    print_table(
        ["ID", "NAME", "FORGE", "REPOSITORY", "BRANCH", "AGENT"],
        (
            [
                str(item["id"]),
                item["name"],
                item["forge"],
                item["repository"],
                item["default_branch"],
                str(item["agent"].get("provider", "")),
            ]
            for item in items
        ),
        empty="No projects yet: add one with `codegenapp projects add`.",
        out=console(),
    )


@app.command("show")
def show(
    project: ProjectArgument,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Show a project and its settings.

    Example: codegenapp projects show shop
    """
    with connect(server, token) as client:
        found = cast(
            dict[str, object], client.get(f"/api/v1/projects/{project_id(client, project)}")
        )
    if as_json:
        print_json(found)
        return
    item = cast(Project, found)
    out = console()
    agent = {key: value for key, value in item["agent"].items() if key != "recipe"}
    print_fields(
        [
            ("project", f"{item['id']} {item['name']}"),
            (
                "repository",
                f"{item['repository']} ({item['forge']}, branch {item['default_branch']})",
            ),
            ("agent", json.dumps(agent)),
            ("updated", when(item["updated_at"])),
        ],
        out=out,
    )
    for section in SETTINGS_SECTIONS:
        out.print(Text(section, style="bold"))
        out.print(Text(json.dumps(found[section], indent=2)))


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The project's name.")],
    repository: Annotated[
        str,
        typer.Option(
            help="A path to a git repository on the server (local), or OWNER/NAME (github)."
        ),
    ],
    recipe: Recipe = None,
    forge: Annotated[
        str | None,
        typer.Option(
            help="local or github. Default: github for an https:// address, else local.",
            show_default=False,
        ),
    ] = None,
    branch: Annotated[str, typer.Option(help="The default branch.")] = "main",
    settings_file: SettingsFile = None,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Register a project: a repository, its agent and its settings.

    The agent is the scripted stand-in with --recipe, or the one `agent` names in --settings.

    Example: codegenapp projects add shop --repository ~/src/shop --recipe recipe.yaml
    """
    body: dict[str, object] = {
        "name": name,
        "repository": _repository(repository, forge),
        "default_branch": branch,
    }
    if forge is not None:
        body["forge"] = forge
    if recipe is not None:
        body["agent"] = {"provider": "scripted", "recipe": _read_recipe(recipe)}
    if settings_file is not None:
        body.update(_read_settings(settings_file))
    if "agent" not in body:
        raise BadInput("no agent: give --recipe FILE, or an `agent` in --settings")
    with connect(server, token) as client:
        created = cast(Project, client.post("/api/v1/projects", body))
    if as_json:
        print_json(created)
    else:
        print(f"project {created['id']} {created['name']}: {created['repository']}")


@app.command("edit")
def edit(
    project: ProjectArgument,
    name: Annotated[str | None, typer.Option(help="A new name.", show_default=False)] = None,
    repository: Annotated[
        str | None, typer.Option(help="Another repository.", show_default=False)
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Another default branch.", show_default=False)
    ] = None,
    recipe: Recipe = None,
    settings_file: SettingsFile = None,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Change a project: only what is given changes; a settings section given replaces it.

    Example: codegenapp projects edit shop --settings shop.json
    """
    body: dict[str, object] = {}
    if name is not None:
        body["name"] = name
    if repository is not None:
        body["repository"] = _repository(repository, None)
    if branch is not None:
        body["default_branch"] = branch
    if recipe is not None:
        body["agent"] = {"provider": "scripted", "recipe": _read_recipe(recipe)}
    if settings_file is not None:
        body.update(_read_settings(settings_file))
    if not body:
        raise BadInput(
            "nothing to change: give --name, --repository, --branch, --recipe or --settings"
        )
    with connect(server, token) as client:
        changed = cast(Project, client.put(f"/api/v1/projects/{project_id(client, project)}", body))
    if as_json:
        print_json(changed)
    else:
        print(f"project {changed['id']} {changed['name']} changed")


@app.command("delete")
def delete(
    project: ProjectArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Delete a project (refused while one of its runs is active).

    Example: codegenapp projects delete shop --yes
    """
    with connect(server, token) as client:
        ident = project_id(client, project)
        if not yes:
            if not sys.stdin.isatty():
                raise BadInput(f"give --yes to delete project {project} without a prompt")
            if not typer.confirm(f"Delete project {project}?"):
                raise Failed("nothing deleted")
        client.delete(f"/api/v1/projects/{ident}")
    print(f"project {project} deleted")


def _repository(repository: str, forge: str | None) -> str:
    """A local path as an absolute one (the server does not know our working directory);
    anything else as given."""
    if forge == "github" or repository.startswith("https://"):
        return repository
    path = Path(repository).expanduser()
    return str(path.resolve()) if path.exists() else repository


def _read_recipe(path: Path) -> str:
    """The recipe's text: the server stores it with the project and reads no file of ours."""
    from codegenapp.domain.project_settings import MAX_RECIPE_CHARS
    from codegenapp.files import read_regular_file

    try:
        # Four bytes a character at most: the server counts characters.
        return read_regular_file(path, limit=4 * MAX_RECIPE_CHARS).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise BadInput(f"--recipe {path}: {reason}") from error


def _read_settings(path: Path) -> dict[str, object]:
    from codegenapp.files import read_regular_file

    try:
        fields = json.loads(read_regular_file(path, limit=1 << 20))
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise BadInput(f"--settings {path}: {reason}") from error
    if not isinstance(fields, dict):
        raise BadInput(f"--settings {path}: a JSON object of project fields is expected")
    return cast(dict[str, object], fields)
