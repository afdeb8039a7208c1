"""The client commands' side of the API: one call, its JSON answer or one line saying why not.

Exit codes follow the answer: a body the API found invalid (400, 413, 422) is the caller's
bad input (2); a refusal (401, 404, 409, 429, …), a server error or no server is a command that
could not be done (1). The API's `detail` is shown as it is: it is written to be read.
"""

import os
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import cast
from urllib.parse import urlencode

import httpx
import stamina

from codegenapp.cli.credentials import Target, resolve
from codegenapp.cli.errors import BadInput, Failed
from codegenapp.cli.shapes import Page, Project

CONNECT_HINT = "is `codegenapp serve` running? set CODEGENAPP_SERVER or run `codegenapp login`"
INVALID_INPUT = frozenset({400, 413, 422})
Params = Mapping[str, str | int | None]


def _sent_maybe(error: Exception) -> bool:
    """Retry only what may have reached the server (the idempotency key makes a repeated POST
    harmless); a refused connection is reported at once."""
    return isinstance(error, httpx.TransportError) and not isinstance(
        error, httpx.ConnectError | httpx.ConnectTimeout
    )


def unreachable(server: str) -> Failed:
    return Failed(f"cannot reach {server}: {CONNECT_HINT}")


class Client:
    """An authenticated connection to one server; use it as a context manager."""

    def __init__(self, target: Target, *, timeout: float = 30) -> None:
        # The client says itself what it retries: stamina's default hook would log each retry
        # to stdout, into the JSON a script reads.
        stamina.instrumentation.set_on_retry_hooks([])
        self.target = target
        self._http = httpx.Client(
            base_url=target.server,
            headers={"Authorization": f"Bearer {target.token}"},
            timeout=timeout,
            trust_env=False,
        )

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._http.close()

    def get(self, path: str, params: Params | None = None) -> object:
        return self._json(self._request("GET", path, params=params), path)

    def post(self, path: str, body: object = None) -> object:
        return self._json(self._request("POST", path, body=body), path)

    def put(self, path: str, body: object) -> object:
        return self._json(self._request("PUT", path, body=body), path)

    def delete(self, path: str) -> None:
        self._request("DELETE", path)

    def text(self, path: str) -> str:
        return self._request("GET", path).text

    def content(self, path: str) -> bytes:
        return self._request("GET", path).content

    def _request(
        self, method: str, path: str, *, params: Params | None = None, body: object = None
    ) -> httpx.Response:
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
        query = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            for attempt in stamina.retry_context(
                on=_sent_maybe, attempts=3, wait_initial=0.3, wait_max=2.0, timeout=20.0
            ):
                with attempt:
                    response = self._http.request(
                        method, path, params=query, json=body, headers=headers
                    )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise unreachable(self.target.server) from error
        except httpx.HTTPError as error:
            raise Failed(
                f"lost the connection to {self.target.server} ({type(error).__name__}): "
                f"{CONNECT_HINT}"
            ) from error
        if response.status_code < 400:
            return response
        detail = _problem(response)
        if response.status_code == 401:
            raise Failed(
                f"{self.target.server} refused the token from {self.target.token_from} "
                f"({detail}): run `codegenapp login`"
            )
        if response.status_code in INVALID_INPUT:
            raise BadInput(detail)
        if response.status_code >= 500:
            raise Failed(f"server error {response.status_code}: {detail}")
        raise Failed(detail)

    def _json(self, response: httpx.Response, path: str) -> object:
        if response.status_code == 204:
            return None
        try:
            return cast(object, response.json())
        except ValueError as error:
            raise Failed(
                f"{self.target.server}{path} did not answer JSON: is it a CodegenApp server?"
            ) from error

    def items(self, path: str, params: Params | None = None) -> list[object]:
        """The items of one page of a list."""
        return cast(Page, self.get(path, params))["items"]

    def pages(self, path: str, params: Params | None = None, *, limit: int = 200) -> list[object]:
        """Every item of a paged list, following `offset` to the end."""
        items: list[object] = []
        while True:
            page = cast(
                Page, self.get(path, {**(params or {}), "limit": limit, "offset": len(items)})
            )
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items

    def websocket_url(self, *, since: int, project_id: int | None) -> str:
        base = "ws" + self.target.server.removeprefix("http")
        query = {"token": self.target.token, "since": since, "project_id": project_id}
        return f"{base}/ws?" + urlencode({k: v for k, v in query.items() if v is not None})


def _problem(response: httpx.Response) -> str:
    """The API's one-line `detail` (every error answer has one), or the start of the text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    text = detail if isinstance(detail, str) else response.text[:300] or response.reason_phrase
    return " ".join(text.split())


def project_id(client: Client, project: str) -> int:
    """A project's id from its id or its name; `BadInput` if no project has that name."""
    if project.isdigit():
        return int(project)
    for item in client.pages("/api/v1/projects"):
        found = cast(Project, item)
        if found["name"] == project:
            return found["id"]
    raise BadInput(f"--project: no project named {project!r} (see `codegenapp projects list`)")


def project_names(client: Client) -> dict[int, str]:
    return {
        cast(Project, item)["id"]: cast(Project, item)["name"]
        for item in client.pages("/api/v1/projects")
    }


def connect(server: str | None, token: str | None) -> Client:
    """A client for the server the flags, the environment or the stored login name."""
    return Client(resolve(server, token, os.environ))
