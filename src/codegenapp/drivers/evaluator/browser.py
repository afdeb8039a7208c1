"""The warm Chromium: the system's browser, launched once per process on first use, as an
unprivileged user with its own sandbox on, and a fresh context per use that reaches one origin.

Why each layer (docs/adr/0014-browser-isolation.md):
- As root, Chromium refuses its sandbox; so a root worker starts it through a launcher that
  drops to uid 65534 first. The sandbox then stays on, and the browser cannot read the home
  (0700: the database, the secret key, the token) or any other private file of the host.
- Every context has a proxy that does not exist (a port we hold bound but never listen on),
  bypassed for the preview's host:port alone: whatever Chromium's network stack would send
  elsewhere (a preconnect, a WebSocket, WebRTC over TCP) fails to connect. Playwright's routes
  come first and refuse, and report, every request for another origin.
- DNS answers nothing but the preview's hosts; WebRTC may not use UDP outside the proxy.

Playwright's driver keeps the working files of every trace (screencast frames, resources) in
the browser's traces directory until the browser closes, which a warm browser never does: this
process's own directory, emptied whenever no context is open (every trace's zip is written by
then), removed when the browser closes.
"""

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    Playwright,
    Request,
    Route,
    ViewportSize,
    WebSocketRoute,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from codegenapp.drivers.evaluator import EvaluatorUnavailable
from codegenapp.drivers.evaluator.browser_group import BrowserGroup
from codegenapp.files import make_private_dir

log = logging.getLogger(__name__)
UNPRIVILEGED = 65534  # nobody
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Off the network but for the preview (TESTING.md's list, and more): no update checks,
# no pings, no crash uploads, UDP for WebRTC only through the (dead) proxy.
FLAGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--no-pings",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)
LAUNCHER = """\
#!/bin/sh
# Written by codegenapp: starts Chromium as uid {uid} (Chromium refuses its own sandbox as
# root), in the profile directory Playwright made for it, with nothing of our environment.
home=/nonexistent
for arg in "$@"; do
  case "$arg" in
    --user-data-dir=*) home="${{arg#--user-data-dir=}}"; chown -R {uid}:{uid} -- "$home" ;;
  esac
done
{join}
exec setpriv --reuid={uid} --regid={uid} --clear-groups --inh-caps=-all --bounding-set=-all \\
  --no-new-privs -- /usr/bin/env -i HOME="$home" PATH=/usr/bin:/bin {chromium} "$@"
"""

OnBlocked = Callable[[str, str], None]
"""Told (url, resource type) of each request refused for being outside the preview."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class WarmBrowser:
    """One Chromium for the process; contexts for callers. Safe for concurrent callers."""

    def __init__(self, chromium: Path, *, state_dir: Path, preview_hosts: tuple[str, ...]) -> None:
        """`preview_hosts`: the hosts previews are published on (loopback, a Docker host's
        address): the only names the browser may resolve."""
        self._chromium, self._state_dir = chromium, state_dir
        self._preview_hosts = preview_hosts
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._dead_end: socket.socket | None = None
        self._group: BrowserGroup | None = None  # its limits, made at the first launch as root
        self._traces_dir: Path | None = None  # made at the first launch
        self._open = 0  # contexts given out and not yet released

    async def context(self, base_url: str, on_blocked: OnBlocked) -> BrowserContext:
        """A fresh context from which only `base_url`'s origin can be reached. The caller
        closes it, then calls `release` (not if this raised)."""
        browser = await self._warm()
        assert self._dead_end is not None
        preview = urlsplit(base_url)
        proxy_port = self._dead_end.getsockname()[1]
        context: BrowserContext | None = None
        try:
            context = await browser.new_context(
                base_url=base_url,
                viewport=VIEWPORT,
                service_workers="block",  # a worker's requests could escape the routes below
                accept_downloads=False,
                # host:port, not the host alone: the bypass then keeps every other port on the
                # preview's host (our API, PostgreSQL, Redis on loopback) behind the dead proxy.
                proxy={"server": f"http://127.0.0.1:{proxy_port}", "bypass": preview.netloc},
            )
            await _keep_to(context, origin_of(base_url), on_blocked)
        except BaseException:
            if context is not None:
                with contextlib.suppress(PlaywrightError):
                    await context.close()
            await self.release()
            raise
        return context

    async def release(self) -> None:
        """A context given out is closed. When none is left open, no trace is being recorded:
        the working files of those recorded so far go."""
        async with self._lock:
            self._open -= 1
            if self._open == 0 and self._traces_dir is not None:
                await asyncio.to_thread(_empty, self._traces_dir)

    async def close(self) -> None:
        async with self._lock:
            browser, playwright = self._browser, self._playwright
            self._browser, self._playwright = None, None
            with contextlib.suppress(PlaywrightError):
                if browser is not None:
                    await browser.close()
            with contextlib.suppress(PlaywrightError):
                if playwright is not None:
                    await playwright.stop()
            if self._dead_end is not None:
                self._dead_end.close()
                self._dead_end = None
            if self._group is not None:
                await asyncio.to_thread(self._group.remove)
                self._group = None
            if self._traces_dir is not None:
                await asyncio.to_thread(shutil.rmtree, self._traces_dir, True)
                self._traces_dir = None

    async def _warm(self) -> Browser:
        async with self._lock:
            # Counted under the lock, before the context exists: `release` never empties the
            # traces directory under a context about to start tracing.
            self._open += 1
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._browser is not None:
                log.warning("the browser went away; starting it again")
            try:
                self._browser = await self._launch()
            except BaseException:
                self._open -= 1
                raise
            return self._browser

    async def _launch(self) -> Browser:
        if not os.access(self._chromium, os.X_OK):
            raise EvaluatorUnavailable(
                f"no browser at {self._chromium}: install it (apt-get install -y chromium) or "
                "set CODEGENAPP_CHROMIUM"
            )
        if self._dead_end is None:
            self._dead_end = socket.socket()
            self._dead_end.bind(("127.0.0.1", 0))  # bound, never listening: connections fail
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        hosts = " , ".join(f"EXCLUDE {host}" for host in self._preview_hosts)
        if self._traces_dir is None:  # 0700; written by Playwright's driver, not the browser
            self._traces_dir = Path(tempfile.mkdtemp(prefix="codegenapp-traces-"))
        try:
            return await self._playwright.chromium.launch(
                executable_path=await asyncio.to_thread(self._executable),
                args=[*FLAGS, f"--host-resolver-rules=MAP * ~NOTFOUND , {hosts}"],
                chromium_sandbox=True,
                traces_dir=self._traces_dir,
                timeout=60_000,
            )
        except PlaywrightError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise EvaluatorUnavailable(f"the browser would not start: {first}") from error

    def _executable(self) -> str:
        """Chromium itself, or (as root) a launcher that drops to an unprivileged user."""
        if os.geteuid() != 0:
            return str(self._chromium)
        directory = self._state_dir / "browser"
        make_private_dir(directory)
        launcher = directory / "chromium-unprivileged"
        if self._group is None:
            self._group = BrowserGroup.make()
        join = self._group.join_command() if self._group else "# (no control group here)"
        text = LAUNCHER.format(
            uid=UNPRIVILEGED, chromium=shlex.quote(str(self._chromium)), join=join
        )
        if not launcher.is_file() or launcher.read_text() != text:
            temporary = launcher.with_suffix(".tmp")
            temporary.write_text(text)
            temporary.chmod(0o700)
            temporary.replace(launcher)
        return str(launcher)


def _empty(directory: Path) -> None:
    """Remove what `directory` holds (not itself: Playwright writes into it)."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


async def _keep_to(context: BrowserContext, origin: str, on_blocked: OnBlocked) -> None:
    """Refuse, before it is sent, every request and WebSocket for another origin."""

    async def route(route: Route, request: Request) -> None:
        if origin_of(request.url) == origin:
            await route.fallback()
            return
        on_blocked(request.url, request.resource_type)
        await route.abort("blockedbyclient")

    async def refuse(socket_route: WebSocketRoute) -> None:
        on_blocked(socket_route.url, "websocket")
        await socket_route.close(code=1008, reason="outside the preview")

    def elsewhere(url: str) -> bool:
        parts = urlsplit(url)
        http_scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        return f"{http_scheme}://{parts.netloc}".lower() != origin

    await context.route("**/*", _logged(route))
    await context.route_web_socket(elsewhere, refuse)


def _logged(
    handler: Callable[[Route, Request], Awaitable[None]],
) -> Callable[[Route, Request], Awaitable[None]]:
    async def handle(route: Route, request: Request) -> None:
        try:
            await handler(route, request)
        except PlaywrightError as error:  # the page or context closed meanwhile
            log.debug("route of %s: %s", request.url, error)

    return handle
