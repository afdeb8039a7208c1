"""The activity feed: what happened, newest last; with --follow, live."""

from typing import Annotated, cast

import typer
from rich.text import Text

from codegenapp.cli import options
from codegenapp.cli.client import connect, project_id, project_names
from codegenapp.cli.describe import describe
from codegenapp.cli.output import console, print_json, print_json_line, print_table, when
from codegenapp.cli.shapes import Event
from codegenapp.cli.stream import EventStream, newest_event_id

FEED_LIMIT_MAX = 1000


def events(
    project: options.ProjectFilter = None,
    run: Annotated[
        int | None, typer.Option("--run", min=1, help="Only this agent run's.", show_default=False)
    ] = None,
    validation: Annotated[
        int | None,
        typer.Option("--validation", min=1, help="Only this validation's.", show_default=False),
    ] = None,
    since: Annotated[
        int | None,
        typer.Option(min=0, help="Events after this id (oldest first).", show_default=False),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=FEED_LIMIT_MAX, help="How many.")
    ] = 30,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Then print new events as they happen.")
    ] = False,
    as_json: options.Json = False,
    server: options.Server = None,
    token: options.Token = None,
) -> None:
    """Print the activity feed: the last events, oldest first; --follow keeps watching.

    Example: codegenapp events --project shop --follow
    """
    with connect(server, token) as client:
        ident = project_id(client, project) if project else None
        params = {
            "project_id": ident,
            "agent_run_id": run,
            "validation_id": validation,
            "limit": limit,
            "since": since,
            "order": "oldest_first" if since is not None else "newest_first",
        }
        found = cast(list[Event], client.get("/api/v1/events", params))
        feed = found if since is not None else found[::-1]
        names = project_names(client) if not as_json else {}
        if as_json and not follow:
            print_json(feed)
            return
        if as_json:
            for event in feed:
                print_json_line(event)
        else:
            print_table(
                ["ID", "TIME", "PROJECT", "TYPE", "WHAT"],
                (_row(event, names) for event in feed),
                empty="No events.",
                out=console(),
            )
        if not follow:
            return
        last = max(
            (cast(int, event["id"]) for event in feed), default=since or newest_event_id(client)
        )
        out = console()
        stream = EventStream(
            client, project_id=ident, since=last, say=lambda m: out.print(Text(m, style="dim"))
        )
        for event in stream:
            data = event["data"]
            if run is not None and data.get("agent_run_id") != run:
                continue
            if validation is not None and data.get("validation_id") != validation:
                continue
            if as_json:
                print_json_line(event)
            else:
                if event["project_id"] is not None and event["project_id"] not in names:
                    names = project_names(client)
                out.print(Text("  ".join(_row(event, names))))


def _row(event: Event, names: dict[int, str]) -> list[str]:
    project = event["project_id"]
    said = describe(event["type"], event["data"])
    what = said.plain.strip() if said is not None else _summary(event["data"])
    return [
        str(event["id"]),
        when(event["ts"]),
        names.get(project, str(project)) if project is not None else "",
        event["type"],
        what,
    ]


def _summary(data: dict[str, object]) -> str:
    """The event's plain fields, `key=value`, for the types the live view does not word."""
    return " ".join(
        f"{key}={value}"
        for key, value in data.items()
        if isinstance(value, str | int | float | bool) and key != "status"
    )[:160]
