"""Validations: each attempt at a pull request's head (or a base branch), its six steps, their
logs, and what can be done about one (retry, merge)."""

import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.text import Text

from codegenapp.cli import options
from codegenapp.cli.answers import list_page, post
from codegenapp.cli.client import Client, connect, project_id
from codegenapp.cli.describe import STEP_MARKS
from codegenapp.cli.errors import BadInput
from codegenapp.cli.output import console, print_fields, print_json, print_table, sha, short, when
from codegenapp.cli.shapes import Validation
from codegenapp.cli.stream import EventStream, newest_event_id
from codegenapp.domain.states import StepName, ValidationKind, ValidationStatus

app = typer.Typer(
    help="Validations: list, show, log, retry, merge, artifacts.", no_args_is_help=True
)
ValidationId = Annotated[
    int, typer.Argument(metavar="VALIDATION", min=1, help="The validation's id.")
]


def get_validation(client: Client, validation_id: int) -> Validation:
    return cast(Validation, client.get(f"/api/v1/validations/{validation_id}"))


@app.command("list")
def list_validations(
    project: options.ProjectFilter = None,
    run: Annotated[
        int | None, typer.Option("--run", min=1, help="Only this agent run's.", show_default=False)
    ] = None,
    status: Annotated[
        ValidationStatus | None, typer.Option(help="Only in this state.", show_default=False)
    ] = None,
    kind: Annotated[
        ValidationKind | None,
        typer.Option(help="pull_request, or baseline (the base branch).", show_default=False),
    ] = None,
    limit: options.Limit = 20,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """List validations, newest first.

    Example: codegenapp validations list --run 7
    """
    list_page(
        "/api/v1/validations",
        lambda client: {
            "project_id": project_id(client, project) if project else None,
            "agent_run_id": run,
            "status": status.value if status else None,
            "kind": kind.value if kind else None,
            "limit": limit,
        },
        as_json=as_json,
        columns=[
            "ID",
            "PROJECT",
            "RUN",
            "WHAT",
            "ATTEMPT",
            "STATUS",
            "FAILED AT",
            "HEAD",
            "FINISHED",
        ],
        row=_row,
        empty="No validations.",
        server=server,
        token=token,
    )


def _row(item: Validation, names: dict[int, str]) -> list[str]:
    return [
        str(item["id"]),
        names.get(item["project_id"], str(item["project_id"])),
        str(item["agent_run_id"] or ""),
        f"#{item['pr_number']}" if item["pr_number"] else item["kind"],
        str(item["attempt"]),
        item["status"],
        item["failed_step"] or "",
        sha(item["head_sha"]),
        when(item["finished_at"]),
    ]


@app.command("show")
def show(
    validation_id: ValidationId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Show a validation: its steps, checks, verdict, merge and evidence.

    Example: codegenapp validations show 12
    """
    with connect(server, token) as client:
        found = cast(dict[str, object], client.get(f"/api/v1/validations/{validation_id}"))
    if as_json:
        print_json(found)
        return
    item = cast(Validation, found)
    out = console()
    what = f"pull request #{item['pr_number']}" if item["pr_number"] else "the base branch"
    merge = (
        f"merged as {sha(item['merge_sha'])}"
        if item["merged"]
        else item["merge_blocked_reason"] or ""
    )
    print_fields(
        [
            (
                "validation",
                f"{item['id']} · {what} at {sha(item['head_sha'])} · attempt {item['attempt']}",
            ),
            ("status", item["status"] + (f" (fault: {item['fault']})" if item["fault"] else "")),
            ("reason", item["reason"] or ""),
            ("checks", ", ".join(f"{name} {state}" for name, state in item["checks"].items())),
            ("merge", merge),
            ("run", str(item["agent_run_id"] or "")),
            ("finished", when(item["finished_at"])),
        ],
        out=out,
    )
    out.print(Text("steps", style="bold"))
    for step in item["steps"]:
        mark, style = STEP_MARKS.get(
            step["status"], ("…" if step["status"] == "running" else " ", "")
        )
        line = Text(f"  {mark} ", style=style)
        line.append(f"{step['name']:<13}{step['status']:<10}")
        line.append(short(step["summary"], 100), style="dim")
        out.print(line)
    for artifact in item["artifacts"]:
        out.print(
            Text(f"  artifact {artifact['name']} ({artifact['kind']}, {artifact['size']} bytes)")
        )
    if item["failed_step"]:
        out.print(
            Text(
                f"log: codegenapp validations log {item['id']} --step {item['failed_step']}",
                style="dim",
            )
        )


@app.command("log")
def log(
    validation_id: ValidationId,
    step: Annotated[
        StepName | None,
        typer.Option(
            "--step",
            help="Which step's log. Default: the running step, else the failed one, else the "
            "last that ran.",
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing as it grows, until the step ends.")
    ] = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Print a step's log (secrets masked), as the step wrote it.

    Example: codegenapp validations log 12 --step deploy --follow
    """
    with connect(server, token) as client:
        since = newest_event_id(client) if follow else 0
        validation = get_validation(client, validation_id)
        name = step.value if step else _default_step(validation)
        path = f"/api/v1/validations/{validation_id}/steps/{name}/log"
        printed = _print_new(client.text(path), 0)
        state = next(item["status"] for item in validation["steps"] if item["name"] == name)
        if not follow or state not in ("pending", "running"):
            return
        stream = EventStream(
            client,
            project_id=validation["project_id"],
            since=since,
            say=lambda message: print(message, file=sys.stderr, flush=True),
            log_lines=True,
        )
        # Each piece streamed live rings the bell, and the stored log (append-only, written
        # before it is streamed) is read again past what was printed: nothing is printed twice
        # or lost, across a reconnect too.
        for event in stream:
            data = event["data"]
            if data.get("validation_id") != validation_id:
                continue
            printed = _print_new(client.text(path), printed)
            ended = event["type"] == "validation_completed" or (
                event["type"] == "validation_progress"
                and data.get("step") == name
                and data.get("step_status") not in ("pending", "running")
            )
            if ended:
                return


def _print_new(log: str, printed: int) -> int:
    """Print `log` past its first `printed` characters; how many are printed now."""
    sys.stdout.write(log[printed:])
    sys.stdout.flush()
    return max(len(log), printed)


def _default_step(validation: Validation) -> str:
    running = [step["name"] for step in validation["steps"] if step["status"] == "running"]
    if running:
        return running[0]
    if validation["failed_step"]:
        return validation["failed_step"]
    ran = [step["name"] for step in validation["steps"] if step["started_at"]]
    if not ran:
        raise BadInput(f"validation {validation['id']} has run no step yet: give --step")
    return ran[-1]


@app.command("retry")
def retry(
    validation_id: ValidationId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Validate the same head again, as a new attempt (e.g. after fixing the settings).

    Example: codegenapp validations retry 12
    """
    post(
        f"/api/v1/validations/{validation_id}/retry",
        as_json=as_json,
        line=_retried,
        server=server,
        token=token,
    )


def _retried(again: Validation) -> str:
    return (
        f"validation {again['id']} {again['status']} (attempt {again['attempt']}, "
        f"{sha(again['head_sha'])}); see it: codegenapp validations show {again['id']}"
    )


@app.command("merge")
def merge(
    validation_id: ValidationId,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Merge a passed validation's pull request, exactly at the validated head.

    Example: codegenapp validations merge 12
    """
    post(
        f"/api/v1/validations/{validation_id}/merge",
        as_json=as_json,
        line=_merged,
        server=server,
        token=token,
    )


def _merged(merged: Validation) -> str:
    return f"validation {merged['id']}: merged as {sha(merged['merge_sha'])}"


@app.command("artifacts")
def artifacts(
    validation_id: ValidationId,
    save: Annotated[
        Path | None,
        typer.Option(help="Download them into this directory.", show_default=False),
    ] = None,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """List the evidence a validation kept (screenshots, findings), or download it.

    Example: codegenapp validations artifacts 12 --save ./evidence
    """
    with connect(server, token) as client:
        kept = get_validation(client, validation_id)["artifacts"]
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            for artifact in kept:
                # The server checked each name against its pattern: no separators, no dots.
                (save / Path(artifact["name"]).name).write_bytes(client.content(artifact["url"]))
    if as_json:
        print_json(kept)
        return
    print_table(
        ["NAME", "KIND", "BYTES"],
        ([item["name"], item["kind"], str(item["size"])] for item in kept),
        empty=f"Validation {validation_id} kept no artifacts.",
        out=console(),
    )
    if save is not None and kept:
        print(f"saved in {save}")
