"""Agent runs: start one with a goal, list them, read one, follow it live, continue, cancel,
approve a change that waits for a person."""

import sys
from typing import Annotated, cast

import typer
from rich.text import Text

from codegenapp.cli import options
from codegenapp.cli.answers import list_page, post, say
from codegenapp.cli.client import Client, connect, project_id, project_names
from codegenapp.cli.follow import exit_code, follow_run, get_run
from codegenapp.cli.output import (
    console,
    print_fields,
    print_json,
    sha,
    short,
    when,
)
from codegenapp.cli.shapes import Run, Validation
from codegenapp.domain.states import AgentRunStatus

app = typer.Typer(help="Agent runs: list, show, follow, continue, cancel.", no_args_is_help=True)
RunId = Annotated[int, typer.Argument(metavar="RUN", min=1, help="The agent run's id.")]


def start(
    goal: Annotated[str, typer.Argument(help="What the agent should do.")],
    project: options.Project,
    follow: options.Follow = None,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Start an agent run with GOAL on a project, and follow it until it ends.

    Following, a plan is asked about at the prompt on a terminal; elsewhere the view says which
    command answers it. Exit code 0 when the run completes, 1 when it fails or is cancelled.
    With --json each event is one line of JSON, and the run as it ended the last line.

    Example: codegenapp run "Add a /health endpoint" --project shop
    """
    with connect(server, token) as client:
        body = {"project_id": project_id(client, project), "goal": goal}
        run = cast(Run, client.post("/api/v1/agent-runs", body))
        _then(client, run, follow=follow, as_json=as_json)


def _then(client: Client, run: Run, *, follow: bool | None, as_json: bool) -> None:
    """Follow the run (the default on a terminal), or say how to."""
    if follow if follow is not None else sys.stdout.isatty():
        interactive = not as_json and sys.stdin.isatty() and sys.stdout.isatty()
        ended = follow_run(client, run["id"], as_json=as_json, interactive=interactive)
        raise typer.Exit(exit_code(ended))
    say(run, as_json=as_json, line=_started)


def _started(run: Run) -> str:
    return f"agent run {run['id']} {run['status']}; follow it: codegenapp runs follow {run['id']}"


@app.command("list")
def list_runs(
    project: options.ProjectFilter = None,
    status: Annotated[
        AgentRunStatus | None, typer.Option(help="Only runs in this state.", show_default=False)
    ] = None,
    limit: options.Limit = 20,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """List agent runs, newest first.

    Example: codegenapp runs list --project shop --status waiting_input
    """
    list_page(
        "/api/v1/agent-runs",
        lambda client: {
            "project_id": project_id(client, project) if project else None,
            "status": status.value if status else None,
            "limit": limit,
        },
        as_json=as_json,
        columns=["ID", "PROJECT", "STATUS", "GOAL", "PR", "UPDATED"],
        row=_row,
        empty="No agent runs.",
        server=server,
        token=token,
    )


def _row(run: Run, names: dict[int, str]) -> list[str]:
    return [
        str(run["id"]),
        names.get(run["project_id"], str(run["project_id"])),
        run["status"],
        short(run["goal"], 50),
        f"#{run['pull_request']['number']}" if run["pull_request"] else "",
        when(run["updated_at"]),
    ]


@app.command("show")
def show(
    run_id: RunId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Show an agent run: its state, plan, result, pull request and validations.

    Example: codegenapp runs show 7
    """
    with connect(server, token) as client:
        run = get_run(client, run_id)
        if as_json:
            print_json(run)
            return
        project = project_names(client).get(run["project_id"], str(run["project_id"]))
        attempts = cast(
            list[Validation],
            client.items("/api/v1/validations", {"agent_run_id": run_id, "limit": 200}),
        )
    out = console()
    agent = run["agent"]
    pr = run["pull_request"]
    print_fields(
        [
            ("run", f"{run['id']} (project {project})"),
            ("status", run["status"]),
            ("goal", short(run["goal"], 200)),
            (
                "agent",
                (agent["driver"] or "") + ("" if agent["is_ai"] in (True, None) else " (not AI)"),
            ),
            ("result", run["result"] or ""),
            (
                "pull request",
                f"#{pr['number']} {pr['url']}"
                + (f" · merged as {sha(pr['merge_sha'])}" if pr["merged"] else "")
                if pr
                else "",
            ),
            (
                "validations",
                ", ".join(
                    f"{v['id']} {v['status']}"
                    + (f" at {v['failed_step']}" if v["failed_step"] else "")
                    for v in sorted(attempts, key=lambda v: v["id"])
                ),
            ),
            ("created", when(run["created_at"])),
            ("updated", when(run["updated_at"])),
        ],
        out=out,
    )
    if run["plan"]:
        out.print(Text("plan", style="bold"))
        out.print(Text("\n".join(f"  {line}" for line in run["plan"].splitlines())))
    held = run["held_change"]
    if held and not held["approved"]:
        out.print(Text(f"held change at {sha(held['head_sha'])}:", style="bold yellow"))
        for finding in held["findings"]:
            out.print(Text(f"  {finding['kind']} {finding['path']}"))
    for hint in next_steps(run):
        out.print(Text(hint, style="dim"))


def next_steps(run: Run) -> list[str]:
    """The commands that move a waiting run on."""
    run_id = run["id"]
    if run["status"] == AgentRunStatus.WAITING_INPUT:
        return [
            f'next: codegenapp plan confirm {run_id}  |  codegenapp plan modify {run_id} "…"'
            f"  |  codegenapp runs cancel {run_id}"
        ]
    if run["status"] == AgentRunStatus.WAITING_APPROVAL:
        return [f"next: codegenapp approve {run_id}  |  codegenapp runs cancel {run_id}"]
    if not AgentRunStatus(run["status"]).is_final:
        return [f"follow it: codegenapp runs follow {run_id}"]
    return []


@app.command("follow")
def follow(
    run_id: RunId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Follow an agent run live, from its start until it ends (exit code 0 when it completes).

    Example: codegenapp runs follow 7
    """
    with connect(server, token) as client:
        interactive = not as_json and sys.stdin.isatty() and sys.stdout.isatty()
        ended = follow_run(client, run_id, as_json=as_json, interactive=interactive)
    raise typer.Exit(exit_code(ended))


@app.command("continue")
def continue_run(
    run_id: RunId,
    message: Annotated[str, typer.Argument(help="What the agent should do next.")],
    follow: options.Follow = None,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Send a finished run's agent a new message; the run goes on.

    Example: codegenapp runs continue 7 "Also add a test for the 404 page"
    """
    with connect(server, token) as client:
        run = cast(Run, client.post(f"/api/v1/agent-runs/{run_id}/continue", {"message": message}))
        _then(client, run, follow=follow, as_json=as_json)


@app.command("cancel")
def cancel(
    run_id: RunId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Cancel an agent run (its agent is stopped, its validations cancelled).

    Example: codegenapp runs cancel 7
    """
    post(
        f"/api/v1/agent-runs/{run_id}/cancel",
        as_json=as_json,
        line=_said,
        server=server,
        token=token,
    )


def approve(
    run_id: RunId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Approve the change a run holds because it touches its tests or CI: it is validated next.

    To refuse the change instead, cancel the run.

    Example: codegenapp approve 7
    """
    post(
        f"/api/v1/agent-runs/{run_id}/approve-change",
        as_json=as_json,
        line=_said,
        server=server,
        token=token,
    )


def _said(run: Run) -> str:
    return f"agent run {run['id']} {run['status']}"
