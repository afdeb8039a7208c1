"""The `codegenapp` command: the server's own commands (serve, worker, demo, doctor, db) and a
client for a running server (login, projects, runs, plans, validations, secrets, events).

Bad arguments get one line on stderr and exit code 2; a command that could not do its job
(no server, a refused token or operation, a run that failed) gets exit code 1.
"""

import os
import sys
from typing import Annotated, NoReturn

import typer
from typer.exceptions import TyperException

from codegenapp import __version__
from codegenapp.cli import (
    config,
    events,
    plans,
    project_secrets,
    projects,
    runs,
    server_commands,
    validations,
)
from codegenapp.cli.errors import BadInput, Failed

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    help="CodegenApp: goals become agent runs; pull requests are validated and merged.",
)
SERVER = "Run the server"
CLIENT = "Talk to a server"


def _print_version(asked: bool) -> None:
    if asked:
        print(f"codegenapp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """CodegenApp: goals become agent runs; pull requests are validated and merged."""


for command in (
    server_commands.serve,
    server_commands.worker,
    server_commands.demo,
    server_commands.doctor,
):
    app.command(rich_help_panel=SERVER)(command)
app.add_typer(server_commands.db_app, name="db", rich_help_panel=SERVER)
for command in (config.login, config.logout, config.status):
    app.command(rich_help_panel=CLIENT)(command)
app.add_typer(projects.app, name="projects", rich_help_panel=CLIENT)
app.add_typer(project_secrets.app, name="secrets", rich_help_panel=CLIENT)
app.command("run", rich_help_panel=CLIENT)(runs.start)
app.add_typer(runs.app, name="runs", rich_help_panel=CLIENT)
app.add_typer(plans.app, name="plan", rich_help_panel=CLIENT)
app.command(rich_help_panel=CLIENT)(runs.approve)
app.add_typer(validations.app, name="validations", rich_help_panel=CLIENT)
app.command(rich_help_panel=CLIENT)(events.events)
# The names of the first CLI, kept working for the scripts that use them.
app.add_typer(projects.app, name="project", hidden=True)


def _exit(code: int, message: str) -> NoReturn:
    print(f"codegenapp: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def main() -> None:
    # Whatever we (or git, or SQLite, or DBOS) create is ours alone: tokens, keys, databases,
    # clones of private code.
    os.umask(0o077)
    try:
        # Without standalone mode, click hands back a `typer.Exit`'s code instead of exiting.
        code = app(standalone_mode=False, prog_name="codegenapp")
    except BadInput as error:
        _exit(2, str(error))
    except Failed as error:
        _exit(1, str(error))
    except (typer.Abort, KeyboardInterrupt):
        _exit(130, "interrupted")
    except typer.Exit as error:
        sys.exit(error.exit_code)
    except TyperException as error:  # usage errors: unknown command, bad option value, ...
        if type(error).__name__ == "NoArgsIsHelpError":  # as typer tells it: the help is shown
            sys.exit(0)
        format_message = getattr(error, "format_message", None)
        message = format_message() if callable(format_message) else str(error)
        _exit(
            getattr(error, "exit_code", 2), message.splitlines()[0] if message else "bad arguments"
        )
    sys.exit(code if isinstance(code, int) else 0)
