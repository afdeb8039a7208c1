"""Where a client's events come from: the stored ones (`GET /api/v1/events`), then the
WebSocket (`/ws?since=<id>`), taken up again after a lost connection from the last event seen,
so that nothing is missed or seen twice, even across a restart of the server."""

import json
from collections.abc import Callable, Iterator
from typing import cast

import stamina
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from codegenapp.cli.client import Client, unreachable
from codegenapp.cli.errors import Failed
from codegenapp.cli.shapes import Event

EVENT_PAGE = 1000
RECONNECT_PATIENCE_SEC = 300.0
POLICY_VIOLATION = 1008  # how the WebSocket refuses a token
_NOT_CONNECTED = (OSError, InvalidHandshake, TimeoutError)


def run_history(client: Client, run_id: int, *, since: int = 0) -> Iterator[Event]:
    """The run's stored events after `since`, oldest first."""
    while True:
        page = cast(
            list[Event],
            client.get(
                "/api/v1/events",
                {"agent_run_id": run_id, "since": since, "limit": EVENT_PAGE},
            ),
        )
        yield from page
        if len(page) < EVENT_PAGE:
            return
        since = cast(int, page[-1]["id"])


def newest_event_id(client: Client) -> int:
    """The id of the last event stored so far (0 if none)."""
    newest = cast(list[Event], client.get("/api/v1/events", {"order": "newest_first", "limit": 1}))
    return cast(int, newest[0]["id"]) if newest else 0


class EventStream:
    """A project's events after `since`, live, reconnecting from the last id seen."""

    def __init__(
        self,
        client: Client,
        *,
        project_id: int | None,
        since: int,
        say: Callable[[str], None],
        log_lines: bool = False,
        patience: float = RECONNECT_PATIENCE_SEC,
    ) -> None:
        self.client, self.project_id, self.last = client, project_id, since
        self.say, self.log_lines, self.patience = say, log_lines, patience

    def __iter__(self) -> Iterator[Event]:
        lost = False
        while True:
            with self._connect() as socket:
                if lost:
                    self.say(f"reconnected; catching up after event {self.last}")
                try:
                    for raw in socket:
                        event = cast(Event, json.loads(raw))
                        if event["id"] is None:
                            if self.log_lines:  # live only: it has no id to resume from
                                yield event
                            continue
                        if event["id"] <= self.last:
                            continue  # already seen
                        self.last = event["id"]
                        yield event
                except ConnectionClosed as closed:
                    if closed.rcvd is not None and closed.rcvd.code == POLICY_VIOLATION:
                        raise Failed(
                            f"{self.client.target.server} closed the live view: "
                            f"{closed.rcvd.reason or 'refused'}"
                        ) from closed
            lost = True
            self.say(f"lost the connection to {self.client.target.server}; reconnecting…")

    def _connect(self) -> ClientConnection:
        url = self.client.websocket_url(since=self.last, project_id=self.project_id)
        try:
            for attempt in stamina.retry_context(
                on=_NOT_CONNECTED,
                attempts=None,
                timeout=self.patience,
                wait_initial=0.2,
                wait_max=3.0,
            ):
                with attempt:
                    return connect(url, proxy=None, open_timeout=10, close_timeout=2)
        except _NOT_CONNECTED as error:
            raise unreachable(self.client.target.server) from error
        raise AssertionError("unreachable: retry_context either returns or raises")
