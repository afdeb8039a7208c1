"""The fetch-and-print the client commands share: ask the API, then print its answer as it
came (`--json`, for scripts) or as a line or a table (for people)."""

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar, cast

from codegenapp.cli.client import Client, Params, connect, project_names
from codegenapp.cli.output import console, print_json, print_table

Answer = TypeVar("Answer")


def say(answer: Answer, *, as_json: bool, line: Callable[[Answer], str]) -> None:
    """The API's answer as JSON, or the one line `line` makes of it."""
    if as_json:
        print_json(answer)
    else:
        print(line(answer))


def post(
    path: str,
    body: object = None,
    *,
    as_json: bool,
    line: Callable[[Answer], str],
    server: str | None,
    token: str | None,
) -> None:
    """POST `body` to `path` and `say` what the API answered."""
    with connect(server, token) as client:
        answer = cast(Answer, client.post(path, body))
    say(answer, as_json=as_json, line=line)


def list_page(
    path: str,
    params: Callable[[Client], Params],
    *,
    as_json: bool,
    columns: Sequence[str],
    row: Callable[[Answer, dict[int, str]], Sequence[str]],
    empty: str,
    server: str | None,
    token: str | None,
) -> None:
    """One page of a list (`params` made with the client, e.g. to find a project's id): the
    items as JSON, or a table whose `row`s may name each item's project."""
    with connect(server, token) as client:
        items = cast(list[Answer], client.items(path, params(client)))
        names = project_names(client) if items and not as_json else {}
    if as_json:
        print_json(items)
        return
    rows: Iterable[Sequence[str]] = (row(item, names) for item in items)
    print_table(columns, rows, empty=empty, out=console())
