"""`FakeLlm`: an OpenAI-compatible chat completions API on loopback (uvicorn, in the test's
own event loop), answering what the test scripts, and logging every request."""

import asyncio
import contextlib
import json
import socket
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tests.fakes.llm.errors import (
    OpenAiError,
    invalid,
    no_key,
    rate_limited,
    server_error,
    wrong_key,
)
from tests.fakes.llm.requests import check


@dataclass(frozen=True, slots=True)
class LoggedCompletion:
    status: int
    body: object  # the JSON sent, None if it did not parse
    authorization: str | None
    images: tuple[bytes, ...]  # decoded from the data URLs, in order (accepted requests only)
    error: str | None  # the error message answered, if refused or failed


@dataclass(frozen=True, slots=True)
class _Scripted:
    status: int  # 200: answer `content`; else fail with OpenAI's error of that status
    content: str = ""


class FakeLlm:
    """`POST /v1/chat/completions` at `url` + "/v1" (the base URL a client is given), for one
    `model` and one `api_key`.

    Script what it answers, in order: `answer(verdict, reasons)`, `answer_text(text)` (any
    content, e.g. not JSON), `fail(status, n=...)` (429, 500, 503). A request nothing was
    scripted for is answered 500 and fails the test at exit; so does a scripted answer never
    asked for, and any request the fake refused as malformed (unless the test `forgive`s)."""

    def __init__(
        self, *, model: str = "judge-1", api_key: str = "sk-test-judge-0123456789"
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.requests: list[LoggedCompletion] = []
        self._script: deque[_Scripted] = deque()
        self._problems: list[str] = []
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.base_url = f"{self.url}/v1"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    # What it answers

    def answer(self, verdict: str, reasons: list[str]) -> None:
        self.answer_text(json.dumps({"verdict": verdict, "reasons": reasons}))

    def answer_text(self, content: str) -> None:
        self._script.append(_Scripted(200, content))

    def fail(self, status: int, *, n: int = 1) -> None:
        assert status == 429 or status >= 500, "fail() is for 429 and 5xx"
        self._script.extend(_Scripted(status) for _ in range(n))

    def forgive(self) -> list[str]:
        """The refusals so far, which the test expected; they no longer fail it at exit."""
        refused, self._problems = self._problems, []
        return refused

    # The API

    async def _completions(self, request: Request) -> JSONResponse:
        raw = await request.body()
        authorization = request.headers.get("authorization")
        try:
            body: object = json.loads(raw)
        except ValueError:
            body = None
        images: list[bytes] = []
        try:
            self._admit(authorization)
            if body is None:
                raise invalid("We could not parse the JSON body of your request.")
            images = check(body, model=self.model)
            answer = self._next()
        except OpenAiError as error:
            if error.status < 429:
                self._problems.append(f"refused {error.status}: {error.message} ({error.param})")
            self._log(error.status, body, authorization, [], error.message)
            return JSONResponse(error.body(), status_code=error.status)
        self._log(200, body, authorization, images, None)
        return JSONResponse(self._completion(answer))

    def _admit(self, authorization: str | None) -> None:
        scheme, _, key = (authorization or "").partition(" ")
        if not key or scheme.lower() != "bearer":
            raise no_key()
        if key.strip() != self.api_key:
            raise wrong_key(key.strip())

    def _next(self) -> str:
        if not self._script:
            self._problems.append("a completion was asked for, but none was scripted")
            raise server_error()
        scripted = self._script.popleft()
        if scripted.status == 429:
            raise rate_limited(self.model)
        if scripted.status != 200:
            error = server_error()
            error.status = scripted.status
            raise error
        return scripted.content

    def _completion(self, content: str) -> dict[str, object]:
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050},
        }

    def _log(
        self,
        status: int,
        body: object,
        authorization: str | None,
        images: list[bytes],
        error: str | None,
    ) -> None:
        self.requests.append(LoggedCompletion(status, body, authorization, tuple(images), error))

    # Lifecycle

    async def __aenter__(self) -> "FakeLlm":
        ready = asyncio.Event()

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            ready.set()
            yield

        app = FastAPI(lifespan=lifespan)
        app.add_api_route("/v1/chat/completions", self._completions, methods=["POST"])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        started = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, started}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            started.cancel()
            self._task.result()
            raise RuntimeError("the fake LLM stopped before it started")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._socket.close()
        if kind is None:
            left = [*self._problems]
            left += [f"scripted but never asked for: {item}" for item in self._script]
            assert not left, f"the fake LLM was left with: {left}"
