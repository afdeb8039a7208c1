"""What a browser context reports while a page is open or a scenario plays: console errors,
uncaught exceptions, failed and blocked requests, sorted into the current `Observations`.

Chromium echoes every failed load as a console error ("Failed to load resource: …"); those
echoes are left out, since the request itself is recorded (or is the browser's own favicon
request, which is nobody's failure).
"""

import re
from dataclasses import dataclass, field
from typing import TypeVar

from playwright.async_api import BrowserContext, ConsoleMessage, Request, Response, WebError

from codegenapp.drivers.evaluator import (
    BlockedRequest,
    ConsoleError,
    FailedRequest,
    Observations,
    PageError,
    SourceLocation,
)
from codegenapp.drivers.evaluator.browser import origin_of

MAX_EACH = 50  # of each kind per page: a page that throws in a loop says so fifty times
MAX_TEXT = 2000
_LOAD_ECHO = re.compile(r"^Failed to load resource: ")
_SOCKET_ECHO = re.compile(r"^WebSocket connection to '([^']+)' failed")
_FRAME = re.compile(r"((?:https?|blob:https?)://[^\s()]+?):(\d+):(\d+)")
# A request cut short because its page went on or closed is nobody's failure.
_CANCELLED = "net::ERR_ABORTED"


@dataclass(slots=True)
class _Bucket:
    console_errors: list[ConsoleError] = field(default_factory=list)
    page_errors: list[PageError] = field(default_factory=list)
    failed_requests: list[FailedRequest] = field(default_factory=list)
    blocked_requests: list[BlockedRequest] = field(default_factory=list)

    def frozen(self) -> Observations:
        return Observations(
            console_errors=tuple(self.console_errors),
            page_errors=tuple(self.page_errors),
            failed_requests=tuple(self.failed_requests),
            blocked_requests=tuple(self.blocked_requests),
        )


T = TypeVar("T")


def _add(items: list[T], item: T) -> None:
    if len(items) < MAX_EACH:
        items.append(item)


class Watch:
    """Listens to one context; `start()` begins a new `Observations`, `seen()` reads it."""

    def __init__(self, base_url: str) -> None:
        self._origin = origin_of(base_url)
        self._bucket = _Bucket()
        self._blocked: set[str] = set()
        self._failed: set[int] = set()  # ids of requests already recorded

    def attach(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", self._page_error)
        context.on("response", self._response)
        context.on("requestfailed", self._request_failed)

    def start(self) -> None:
        self._bucket = _Bucket()

    def seen(self) -> Observations:
        return self._bucket.frozen()

    def blocked(self, url: str, resource: str) -> None:
        """The browser's `on_blocked`: a request for another origin was refused."""
        self._blocked.add(url)
        _add(self._bucket.blocked_requests, BlockedRequest(_short(url, 500), resource))

    def relative(self, url: str) -> str:
        """`url` without the preview's origin, when it is on the preview."""
        if origin_of(url) == self._origin:
            return url[len(self._origin) :] or "/"
        return url

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or _LOAD_ECHO.match(message.text):
            return
        socket_echo = _SOCKET_ECHO.match(message.text)
        if socket_echo and socket_echo.group(1) in self._blocked:
            return
        where = message.location
        location = None
        if where.get("url"):
            location = SourceLocation(
                self.relative(where["url"]),
                int(where.get("lineNumber", 0)) + 1,
                int(where.get("columnNumber", 0)) + 1,
            )
        error = ConsoleError(_short(message.text, MAX_TEXT), location)
        _add(self._bucket.console_errors, error)

    def _page_error(self, web_error: WebError) -> None:
        error = web_error.error
        stack = error.stack or ""
        name = error.name or "Error"
        message = f"{name}: {error.message}" if error.message else name
        frame = _FRAME.search(stack)
        location = (
            SourceLocation(self.relative(frame.group(1)), int(frame.group(2)), int(frame.group(3)))
            if frame
            else None
        )
        stack = _FRAME.sub(lambda found: self.relative(found.group(0)), stack)
        page_error = PageError(_short(message, MAX_TEXT), _short(stack, MAX_TEXT), location)
        _add(self._bucket.page_errors, page_error)

    def _response(self, response: Response) -> None:
        if response.status < 400 or origin_of(response.url) != self._origin:
            return
        request = response.request
        self._failed.add(id(request))
        failed = FailedRequest(
            request.method,
            _short(self.relative(response.url), 500),
            response.status,
            _short(response.status_text, 200),
        )
        _add(self._bucket.failed_requests, failed)

    def _request_failed(self, request: Request) -> None:
        reason = request.failure or "no answer"
        if (
            id(request) in self._failed
            or reason == _CANCELLED
            or origin_of(request.url) != self._origin  # blocked by us: recorded as such
        ):
            return
        failed = FailedRequest(
            request.method, _short(self.relative(request.url), 500), None, _short(reason, 200)
        )
        _add(self._bucket.failed_requests, failed)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
