"""Every route the app has needs the token, but the few that are open on purpose: a route added
later without protection fails here, whoever adds it."""

import json
import re
from collections.abc import Iterator

import httpx
import pytest
import websockets
from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from tests.conftest import Server, SettingsFactory, serve

# (method, path template) answered without a token, and why.
OPEN = {
    ("GET", "/health"),  # load balancers and `make demo` ask whether the server is up
    ("GET", "/{path:path}"),  # the dashboard's pages: the built app, no data in it
    ("GET", "/docs/assets/codegenapp-docs.js"),  # the docs page's script (/docs needs the token)
    ("POST", "/api/v1/webhooks/github"),  # GitHub signs its deliveries instead (test_webhooks)
}
OPEN_MOUNTS = {"/assets", "/docs/assets"}  # the dashboard's and the docs' built files
SAMPLE = {"project_id": "1", "run_id": "1", "validation_id": "1", "step": "deploy", "name": "KEY"}


def _routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI's included router: its routes, under its prefix
            context = route.include_context  # type: ignore[attr-defined]
            yield from _routes(included.routes, prefix + context.prefix)
        else:
            yield prefix + getattr(route, "path", ""), route


def _concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: SAMPLE.get(m.group(1), "x"), template)


def _app_routes(app: FastAPI) -> list[tuple[str, BaseRoute]]:
    found = list(_routes(app.routes))
    kinds = {type(route).__name__ for _, route in found}
    assert all(isinstance(r, Route | WebSocketRoute | Mount) for _, r in found), kinds
    return found


@pytest.fixture
async def docs_server(make_settings: SettingsFactory, database_url: str | None) -> Server:
    async for server in serve(make_settings(api_docs=True, database_url=database_url)):
        yield server  # type: ignore[misc]


async def test_no_route_but_the_open_ones_answers_without_a_token(docs_server: Server) -> None:
    routes = _app_routes(docs_server.app)
    checked = []
    async with httpx.AsyncClient(base_url=docs_server.url) as anonymous:
        for template, route in routes:
            if isinstance(route, Mount):
                assert template in OPEN_MOUNTS, f"{template} is mounted without a token check"
                continue
            if isinstance(route, WebSocketRoute):
                continue
            assert isinstance(route, Route)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                response = await anonymous.request(method, _concrete(template), json={})
                if (method, template) in OPEN:
                    assert response.status_code != 401, (method, template)
                    continue
                assert response.status_code == 401, (method, template, response.status_code)
                assert response.json()["detail"].startswith("a valid access token is required")
                checked.append((method, template))
    # The list above is the app's own, not ours: make sure it held the API.
    assert ("POST", "/api/v1/projects/{project_id}/secrets") in checked
    assert ("GET", "/openapi.json") in checked
    assert ("GET", "/api/v1/whoami") in checked
    assert len(checked) >= 20


async def test_the_websocket_needs_the_token_too(docs_server: Server) -> None:
    sockets = [t for t, r in _app_routes(docs_server.app) if isinstance(r, WebSocketRoute)]
    assert sockets == ["/ws"]
    for query in ("", "?token=wrong"):
        async with websockets.connect(f"{docs_server.ws_url}{query}") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                json.loads(await ws.recv())
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
