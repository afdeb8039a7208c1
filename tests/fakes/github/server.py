"""`FakeGitHub`: the fake served by uvicorn on loopback, and the control API tests drive it with."""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from tests.fakes.github import git, pulls
from tests.fakes.github.api import API_PREFIX
from tests.fakes.github.auth import INSTALLATION_PERMISSIONS
from tests.fakes.github.endpoints import ROUTES
from tests.fakes.github.errors import DOCS
from tests.fakes.github.forge import Forge
from tests.fakes.github.git_http import ROUTES as GIT_ROUTES
from tests.fakes.github.payloads import Json, Urls, check_run_json
from tests.fakes.github.state import CheckRun, Comment, CommitStatus, Merge, PullRequest
from tests.fakes.github.traffic import LoggedRequest, Traffic
from tests.fakes.github.webhooks import Delivery

T = TypeVar("T")


async def _unknown_route(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = (
        "Not Found" if status == 404 else "Method Not Allowed" if status == 405 else "Server Error"
    )
    body = json.dumps({"message": message, "documentation_url": DOCS})
    return Response(body, status, media_type="application/json; charset=utf-8")


class FakeGitHub(Forge):
    """GitHub's REST API under `api_url` (a GitHub Enterprise style `/api/v3` prefix), git smart
    HTTP under `git_url_base`, and App webhooks, on 127.0.0.1 in the test's own event loop.

    Use as `async with FakeGitHub(tmp_path) as github:`; on a clean exit it fails the test if
    an armed fault was never used or a delivery is still in flight."""

    def __init__(self, tmp_path: Path) -> None:
        # Bound now so the URLs are known before start; requests wait in the backlog till then.
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        port = self._socket.getsockname()[1]
        self.git_url_base = f"http://127.0.0.1:{port}"
        self.api_url = self.git_url_base + API_PREFIX
        super().__init__(tmp_path / "fake-github", Urls(self.api_url, self.git_url_base))
        self.traffic = Traffic()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    # Lifecycle

    async def start(self) -> None:
        ready = asyncio.Event()

        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            ready.set()
            yield

        app = Starlette(
            routes=[*ROUTES, *GIT_ROUTES],
            lifespan=lifespan,
            exception_handlers={404: _unknown_route, 405: _unknown_route},
        )
        app.state.forge = self
        app.state.traffic = self.traffic
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        started = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, started}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            started.cancel()
            self._task.result()
            raise RuntimeError("the fake GitHub stopped before it started")

    async def stop(self) -> None:
        await self.webhooks.close()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._socket.close()

    async def __aenter__(self) -> "FakeGitHub":
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.deliveries_sent()
        await self.stop()
        if kind is None:
            left = self.traffic.armed() + ["before_next_merge"] * len(self.before_merge)
            assert not left, f"the fake GitHub was left with unused faults: {left}"

    # Credentials

    @property
    def app_id(self) -> int:
        return self.app.app_id

    @property
    def private_key_pem(self) -> str:
        return self.app.private_key_pem

    def installation_token(self, full_name: str) -> str:
        """A fresh installation token for the App's installation on `full_name` (a shortcut
        past the JWT exchange, for tests that are not about it)."""
        installation_id = self.repository(full_name).installation_id
        assert installation_id is not None, f"the App is not installed on {full_name}"
        return self.app.issue_token(installation_id, dict(self.app_permissions()))[0]

    @staticmethod
    def app_permissions() -> dict[str, str]:
        return dict(INSTALLATION_PERMISSIONS)

    def expire_installation_tokens(self) -> None:
        """Every installation token issued so far stops working now (GitHub's answer: 401)."""
        self.app.expire_tokens()

    def clone_url(self, full_name: str, token: str) -> str:
        host = self.git_url_base.removeprefix("http://")
        return f"http://x-access-token:{token}@{host}/{full_name}.git"

    # Pull requests

    async def open_pull_request(
        self,
        full_name: str,
        head: str,
        base: str,
        title: str,
        author_login: str,
        *,
        body: str | None = None,
        draft: bool = False,
    ) -> PullRequest:
        return await pulls.open_pull_request(
            self,
            self.repository(full_name),
            head=head,
            base=base,
            title=title,
            author=self.state.user(author_login),
            body=body,
            draft=draft,
        )

    def pull_request(self, full_name: str, number: int) -> PullRequest:
        pr = self.state.pull(self.repository(full_name), number)
        assert pr is not None, f"no pull request #{number} in {full_name}"
        return pr

    def close_pull_request(self, full_name: str, number: int, *, by: str | None = None) -> None:
        pr = self.pull_request(full_name, number)
        pulls.close(self, pr, self.state.user(by) if by else pr.user)

    def reopen_pull_request(self, full_name: str, number: int, *, by: str | None = None) -> None:
        pr = self.pull_request(full_name, number)
        pulls.reopen(self, pr, self.state.user(by) if by else pr.user)

    def mark_ready_for_review(self, full_name: str, number: int) -> None:
        pr = self.pull_request(full_name, number)
        pulls.mark_ready(self, pr, pr.user)

    def set_mergeable(self, full_name: str, number: int, mergeable: bool) -> None:
        """False makes the pull request conflict (405 on merge) until set back to True."""
        pr = self.pull_request(full_name, number)
        pr.conflict_forced, pr.mergeable = not mergeable, None if mergeable else False

    async def branch_sha(self, full_name: str, branch: str) -> str | None:
        return await git.resolve(self.repository(full_name).git_dir, f"refs/heads/{branch}")

    # What clients wrote

    def check_runs(self, full_name: str, head_sha: str | None = None) -> list[CheckRun]:
        repo = self.repository(full_name)
        runs = self.state.check_runs.values()
        return [r for r in runs if r.repo is repo and head_sha in (None, r.head_sha)]

    def statuses(self, full_name: str, sha: str | None = None) -> list[CommitStatus]:
        repo = self.repository(full_name)
        return [s for s in self.state.statuses if s.repo is repo and sha in (None, s.sha)]

    def comments(self, full_name: str, number: int) -> list[Comment]:
        repo = self.repository(full_name)
        found = self.state.comments.values()
        return [c for c in found if c.repo is repo and c.issue_number == number]

    @property
    def merges(self) -> list[Merge]:
        return list(self.state.merges)

    def rerequest_check_run(self, check_run_id: int, *, by: str) -> None:
        """What GitHub sends when someone clicks "Re-run" on a check run."""
        run = self.state.check_runs[check_run_id]
        open_pulls = [
            pr
            for pr in self.state.repo_pulls(run.repo)
            if pr.state == "open" and pr.head_sha == run.head_sha
        ]
        payload: Json = {
            "action": "rerequested",
            "check_run": check_run_json(run, self.urls, self.app, open_pulls),
            **self.base_payload(run.repo, self.state.user(by)),
        }
        self.webhooks.emit("check_run", payload)

    # Webhooks

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.webhooks.deliveries)

    async def deliveries_sent(self) -> None:
        """Returns once every delivery so far has been answered (or has failed)."""
        await self.webhooks.drain()

    def lose_next_delivery(self, n: int = 1) -> None:
        """The next `n` deliveries are recorded but never arrive, as a lost webhook."""
        self.webhooks.to_lose += n

    def redeliver(self, guid: str) -> Delivery:
        return self.webhooks.redeliver(guid)

    # Faults and the request log

    def before_next_merge(self, happening: Callable[[], Awaitable[object]]) -> None:
        """`happening` (a push, say) is done on GitHub just before the next merge request is
        answered: what a merge that races a person looks like."""
        self.before_merge.append(happening)

    def go_down(self, *, status: int = 503) -> None:
        """Every REST request gets `status` until `come_back` (git over HTTP still answers)."""
        self.traffic.outage = status

    def come_back(self) -> None:
        self.traffic.outage = None

    def fail_next(self, n: int = 1, *, status: int = 502) -> None:
        self.traffic.fail_next(n, status)

    def rate_limit_next(
        self,
        kind: Literal["primary", "secondary"] = "primary",
        *,
        status: int = 403,
        reset_in: float = 3.0,
    ) -> None:
        """primary: the next caller's limit is spent until `reset_in` seconds from then (403,
        X-RateLimit-Remaining: 0). secondary: the next request only gets `status` (403 or
        429) with Retry-After: 1."""
        self.traffic.rate_limit_next(kind, status, reset_in)

    @property
    def requests(self) -> list[LoggedRequest]:
        return list(self.traffic.log)

    async def until(self, check: Callable[[], T | None], *, timeout: float = 60) -> T:
        """Re-check after every request the fake answers until `check` returns something."""

        async def wait() -> T:
            async with self.traffic.answered:
                while (result := check()) is None:
                    await self.traffic.answered.wait()
                return result

        return await asyncio.wait_for(wait(), timeout)
