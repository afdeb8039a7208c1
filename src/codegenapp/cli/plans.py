"""A run's plan: read it, confirm it, or ask for changes (the run waits for one of them)."""

import sys
from typing import Annotated

import typer
from rich.text import Text

from codegenapp.cli import options
from codegenapp.cli.answers import post
from codegenapp.cli.client import connect
from codegenapp.cli.errors import BadInput
from codegenapp.cli.follow import get_run
from codegenapp.cli.output import console, print_json
from codegenapp.cli.runs import RunId
from codegenapp.cli.shapes import Run

app = typer.Typer(help="A run's plan: show, confirm, modify.", no_args_is_help=True)


@app.command("show")
def show(
    run_id: RunId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Print the plan the agent proposed.

    Example: codegenapp plan show 7
    """
    with connect(server, token) as client:
        run = get_run(client, run_id)
    if as_json:
        print_json({"id": run["id"], "status": run["status"], "plan": run["plan"]})
    elif run["plan"] is None:
        print(f"agent run {run_id} has no plan ({run['status']})")
    else:
        console().print(Text(run["plan"].rstrip()))


@app.command("confirm")
def confirm(
    run_id: RunId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Confirm the plan: the agent goes on with it.

    Example: codegenapp plan confirm 7
    """
    _answer(run_id, {"action": "confirm"}, as_json=as_json, server=server, token=token)


@app.command("modify")
def modify(
    run_id: RunId,
    text: Annotated[
        str | None,
        typer.Argument(
            help="What should change. Default: asked for on a terminal, else read from "
            "standard input.",
            show_default=False,
        ),
    ] = None,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Ask the agent to change its plan; it answers with a new one.

    Example: codegenapp plan modify 7 "Keep the version in a VERSION file instead"
    """
    if text is None:
        text = (
            typer.prompt("What should change in the plan?")
            if sys.stdin.isatty()
            else sys.stdin.read()
        )
    if not text.strip():
        raise BadInput("TEXT: say what should change in the plan")
    _answer(
        run_id,
        {"action": "modify", "text": text.strip()},
        as_json=as_json,
        server=server,
        token=token,
    )


def _answer(
    run_id: int, body: dict[str, str], *, as_json: bool, server: str | None, token: str | None
) -> None:
    done = {"confirm": "plan confirmed", "modify": "changes sent to the agent"}[body["action"]]

    def line(run: Run) -> str:
        return f"agent run {run['id']} {run['status']}: {done}"

    post(
        f"/api/v1/agent-runs/{run_id}/plan-response",
        body,
        as_json=as_json,
        line=line,
        server=server,
        token=token,
    )
