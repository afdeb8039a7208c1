"""`FakeCodegen`: the fake served by uvicorn on loopback, and the control API tests use."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from tests.fakes.codegen.api import RequestLog, render
from tests.fakes.codegen.behaviour import Behaviour, HasLeftovers, echo
from tests.fakes.codegen.core import Codegen
from tests.fakes.codegen.endpoints import router
from tests.fakes.codegen.errors import CodegenError
from tests.fakes.codegen.state import Run
from tests.fakes.codegen.traffic import Limits, LoggedRequest
from tests.fakes.github import FakeGitHub

T = TypeVar("T")
WORK_TIMEOUT = 60.0


class FakeCodegen(Codegen):
    """Codegen's REST API at `url` (on 127.0.0.1, in the test's own event loop), with one
    organization (`org_id`) whose member's API key is `api_key`.

    Use as `async with FakeCodegen(tmp_path, github=github) as codegen:` inside the fake
    GitHub's block, then `codegen.connect("owner/repo")`. The agent answers each turn through
    `behaviour` (given here or assigned later; see `behaviour.py`); each turn shows the
    `progression` statuses, one per poll, before its outcome. On a clean exit it waits for the
    agent's work in progress and fails the test if a forced answer was never used, a `Script`
    step was never asked, or the agent's work (or the fake itself) failed unexpectedly."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        github: FakeGitHub | None = None,
        behaviour: Behaviour = echo,
        limits: Limits | None = None,
        progression: Sequence[str] = ("PENDING", "RUNNING"),
    ) -> None:
        super().__init__(
            tmp_path / "fake-codegen",
            github=github,
            behaviour=behaviour,
            limits=limits or Limits(),
            progression=progression,
        )
        # Bound now so the URL is known before start; requests wait in the backlog till then.
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.api_key = self.add_user("alice")
        self.org_id = self.add_organization("acme", members=["alice"])
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    # Lifecycle

    async def start(self) -> None:
        ready = asyncio.Event()

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            ready.set()
            yield

        app = FastAPI(title="Developer API", version="1.0.0", lifespan=lifespan)
        app.state.codegen = self
        app.include_router(router)
        app.add_exception_handler(CodegenError, render)
        app.add_middleware(RequestLog, codegen=self)
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        started = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, started}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            started.cancel()
            self._task.result()
            raise RuntimeError("the fake Codegen stopped before it started")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._socket.close()

    async def __aenter__(self) -> "FakeCodegen":
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        work = list(self.tasks)
        if kind is not None:
            for task in work:
                task.cancel()
        pending: set[asyncio.Task[None]] = set()
        if work:
            _, pending = await asyncio.wait(work, timeout=WORK_TIMEOUT)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=WORK_TIMEOUT)
        await self.stop()
        if kind is None:
            left = self.traffic.armed() + self.problems
            if isinstance(self.behaviour, HasLeftovers):
                left += self.behaviour.leftovers()
            left += [f"the agent was still working on {task.get_name()}" for task in pending]
            assert not left, f"the fake Codegen was left with: {left}"

    # Accounts and repositories (see Codegen for add_user, add_organization)

    def connect(self, full_name: str, *, org_id: int | None = None) -> int:
        """Installs Codegen on `full_name` (a repository of the fake GitHub) for the
        organization (ours unless named); returns Codegen's repository id."""
        return self.connect_repository(full_name, org_id=org_id or self.org_id)

    def repository_id(self, full_name: str, *, org_id: int | None = None) -> int:
        """Codegen's id for `full_name` in the organization (ours unless named)."""
        links = self.state.organizations[org_id or self.org_id].repositories.values()
        found = [link.id for link in links if link.full_name == full_name]
        assert found, f"{full_name} is not connected to the organization"
        return found[0]

    def set_run_allowance(self, runs: int | None, *, org_id: int | None = None) -> None:
        """After `runs` runs in all (those made so far count), creating one answers 402."""
        self.state.organizations[org_id or self.org_id].run_allowance = runs

    # Forced answers and odd statuses

    def force_next(self, status: int, *, operation: str | None = None, n: int = 1) -> None:
        """The next `n` requests to `operation` (an endpoint name: me, organizations,
        create_run, get_run, list_runs, resume, ban, logs; None for any) get `status` with
        the body Codegen documents for it: 401, 402, 403, 404, 422, 429 or a 5xx."""
        self.traffic.force(status, operation, n)

    def show_statuses(self, run_id: int, *statuses: str) -> None:
        """The run's next polls show `statuses` (e.g. one Codegen never documented) first."""
        self.insert_status(self.run(run_id), statuses)

    # What clients did

    @property
    def requests(self) -> list[LoggedRequest]:
        return list(self.traffic.log)

    def requests_to(self, operation: str) -> list[LoggedRequest]:
        return [r for r in self.traffic.log if r.operation == operation]

    def run(self, run_id: int) -> Run:
        run = self.state.runs.get(run_id)
        assert run is not None, f"the fake Codegen has no run {run_id}"
        return run

    def prompts(self, run_id: int) -> list[str]:
        """The run's prompt, then each resume's, in order."""
        return [turn.prompt for turn in self.run(run_id).turns]

    async def until(self, check: Callable[[], T | None], *, timeout: float = 60) -> T:
        """Re-check after every answer and every finished turn until `check` returns
        something (not None)."""

        async def wait() -> T:
            async with self.traffic.changed:
                while (result := check()) is None:
                    await self.traffic.changed.wait()
                return result

        return await asyncio.wait_for(wait(), timeout)

    async def idle(self, *, timeout: float = 60) -> None:
        """Returns once the agent's work in progress, if any, has ended."""
        if self.tasks:
            await asyncio.wait_for(asyncio.wait(list(self.tasks)), timeout)

    async def turn_finished(self, run_id: int, *, timeout: float = 60) -> Run:
        """The run once the agent is done with its latest turn (its outcome shows from the
        first poll after the upcoming statuses)."""
        run = self.run(run_id)

        def finished() -> Run | None:
            return run if run.turn.outcome is not None else None

        return await self.until(finished, timeout=timeout)
