"""How results reach the terminal: tables for people, the API's own JSON for scripts.

Text that comes from the server (goals, summaries, logs) is printed as text, never read as
rich markup: a goal that says `[red]` stays `[red]`.
"""

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

# Without a terminal to measure, rich would wrap at 80 columns: too narrow for a table that
# a script greps.
PIPE_WIDTH = 200


def console(*, stderr: bool = False) -> Console:
    out = Console(highlight=False, stderr=stderr)
    return out if out.is_terminal else Console(highlight=False, stderr=stderr, width=PIPE_WIDTH)


def print_json(value: object) -> None:
    """The API's answer as it came: indented, keys in the API's order."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(value: object) -> None:
    """One JSON value on one line (ndjson), flushed: a reader sees each as it happens."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str, out: Console
) -> None:
    """Columns without borders, like `kubectl get`; `empty` said when there is no row."""
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    count = 0
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
        count += 1
    if not count:
        out.print(Text(empty))
    elif out.is_terminal:
        out.print(table)
    else:
        # No colours to keep: the lines without the padding of the last column.
        with out.capture() as captured:
            out.print(table)
        out.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
        out.file.flush()


def print_fields(fields: Iterable[tuple[str, str]], *, out: Console) -> None:
    """`name  value` lines, names aligned; values printed as text."""
    rows = [(name, value) for name, value in fields if value]
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        line = Text(f"{name:<{width}}  ", style="bold")
        line.append(value)
        out.print(line)


def when(stamp: str | None) -> str:
    """An API time as local `YYYY-MM-DD HH:MM:SS`; '' for none."""
    if not stamp:
        return ""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def short(text: str | None, width: int = 60) -> str:
    """The first line of `text`, cut to `width` characters with an ellipsis."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first if len(first) <= width else first[: width - 1] + "…"


def sha(value: str | None) -> str:
    return (value or "")[:12]
