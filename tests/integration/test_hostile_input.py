"""What a hostile caller sends, against a real server on SQLite and PostgreSQL: each gets a 4xx
in the one error shape, naming the field; the server stays healthy; nothing is half-written;
no file of the server's is read or revealed."""

import asyncio
import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from tests.conftest import TEST_TOKEN, Server, SettingsFactory, serve
from tests.support.projects import APP, make_repository, recipe_text

from codegenapp.domain.limits import MAX_EVENT_ID, MAX_ID

BIG = 2**64


def _body(tmp_path: Path, **extra: object) -> dict[str, object]:
    repo = tmp_path / "repo"
    if not repo.exists():
        make_repository(repo, {"app.py": APP})
    body: dict[str, object] = {
        "name": "shop",
        "repository": str(repo),
        "agent": {"provider": "scripted", "recipe": recipe_text([{"reply": "hi"}])},
    }
    body.update(extra)
    return body


def _refusal(response: httpx.Response, status: int = 422) -> tuple[str, dict[str, str]]:
    """The one-line detail and {field: message} of an error answer, checking its shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    fields = {".".join(map(str, e["loc"][1:])): e["msg"] for e in body["errors"]}
    return body["detail"], fields


async def _nothing_was_written(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/projects")).json()["total"] == 0
    assert (await client.get("/api/v1/agent-runs")).json()["total"] == 0
    kinds = [e["type"] for e in (await client.get("/api/v1/events")).json()]
    assert "project_created" not in kinds
    assert "agent_run_started" not in kinds


async def _healthy_fast(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as fresh:
        started = time.monotonic()
        assert (await fresh.get("/health")).status_code == 200
        assert time.monotonic() - started < 1.0


async def test_device_fifo_and_outside_paths_are_refused_alike_and_never_read(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outside = ["/dev/zero", "/etc/shadow", "/etc", "/nonexistent/repo", "/" + "x" * 4000]
    answers = set()
    for path in outside:
        response = await asyncio.wait_for(
            client.post("/api/v1/projects", json=_body(tmp_path, repository=path)), 10
        )
        detail, fields = _refusal(response)
        assert "repository" in fields
        assert "root:" not in detail
        assert "_apt" not in detail
        answers.add(fields["repository"].removeprefix(path))
    # Inside the roots the caller may learn what is there; outside, one answer for all.
    assert len(answers) == 1, answers
    response = await asyncio.wait_for(
        client.post("/api/v1/projects", json=_body(tmp_path, repository=str(fifo))), 10
    )
    assert "is not a directory" in _refusal(response)[1]["repository"]
    await _nothing_was_written(client)
    await _healthy_fast(server_)


async def test_a_recipe_is_text_and_its_errors_quote_only_that_text(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    for recipe in ("/etc/shadow", "/dev/zero", "- reply: ok\n- fils: x\n", "- [unclosed\n"):
        response = await client.post(
            "/api/v1/projects", json=_body(tmp_path, agent={"recipe": recipe})
        )
        detail, fields = _refusal(response)
        assert "agent.recipe" in fields, fields
        assert "root:" not in detail
        assert "No such file" not in detail
    await _nothing_was_written(client)


async def test_a_missing_branch_is_named_without_listing_the_branches(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    response = await client.post("/api/v1/projects", json=_body(tmp_path, default_branch="dev"))
    assert _refusal(response)[1]["default_branch"].endswith("has no branch 'dev'")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/projects/{BIG}",
        f"/api/v1/projects/{MAX_ID + 1}/stats",
        f"/api/v1/agent-runs/{2**63}",
        f"/api/v1/validations/{BIG}",
        f"/api/v1/validations/{BIG}/steps/deploy/log",
        f"/api/v1/validations/{BIG}/artifacts/page-0.png",
        f"/api/v1/agent-runs/{BIG}/interactions",
        f"/api/v1/agent-runs/1/interactions?offset={BIG}",
        f"/api/v1/projects?limit={BIG}",
        f"/api/v1/projects?offset={BIG}",
        f"/api/v1/agent-runs?project_id={BIG}",
        f"/api/v1/validations?agent_run_id={MAX_ID + 1}",
        f"/api/v1/events?since={MAX_EVENT_ID + 1}",
        "/api/v1/events?since=-1",
        "/api/v1/projects/0",
    ],
)
async def test_integers_beyond_what_the_database_stores_are_a_422_naming_the_parameter(
    client: httpx.AsyncClient, path: str
) -> None:
    _, fields = _refusal(await client.get(path))
    assert len(fields) == 1, fields


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", str(2**63)])
async def test_numbers_that_are_not_finite_or_too_big_in_a_body_get_a_422_that_serialises(
    client: httpx.AsyncClient, number: str
) -> None:
    raw = f'{{"project_id": {number}, "goal": "Add a page"}}'
    response = await client.post(
        "/api/v1/agent-runs", content=raw, headers={"Content-Type": "application/json"}
    )
    assert "project_id" in _refusal(response)[1]
    await _nothing_was_written(client)


@pytest.mark.parametrize("bad", ["\\ud800", "\\udfff", "\\u0000", "a\\u0000b"])
async def test_a_lone_surrogate_or_nul_in_any_text_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tmp_path: Path, bad: str
) -> None:
    template = json.dumps(_body(tmp_path))
    for field, raw in (
        ("name", template.replace('"shop"', f'"sh{bad}op"')),
        ("default_branch", template[:-1] + f', "default_branch": "ma{bad}in"}}'),
        ("agent.recipe", template.replace("reply: hi", f"reply: h{bad}i")),
        (
            "deployment_settings.build_command",
            template[:-1] + f', "deployment_settings": {{"build_command": "make {bad}"}}}}',
        ),
        (
            "deployment_settings.environment_variables.A",
            template[:-1]
            + f', "deployment_settings": {{"environment_variables": {{"A": "x{bad}"}}}}}}',
        ),
    ):
        response = await client.post(
            "/api/v1/projects", content=raw, headers={"Content-Type": "application/json"}
        )
        _, fields = _refusal(response)
        assert field in fields, (field, fields)
    run = await client.post(
        "/api/v1/agent-runs",
        content=f'{{"project_id": 1, "goal": "x{bad}y"}}',
        headers={"Content-Type": "application/json"},
    )
    assert "goal" in _refusal(run)[1]
    await _nothing_was_written(client)


async def test_five_thousand_secret_named_variables_are_refused_at_once(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    variables = {f"VAR_{n}_TOKEN": "t" * 2400 for n in range(5000)}  # 12 MB as measured
    started = time.monotonic()
    response = await client.post(
        "/api/v1/projects",
        json=_body(tmp_path, deployment_settings={"environment_variables": variables}),
    )
    assert time.monotonic() - started < 5
    detail, _ = _refusal(response, 413)
    assert "CODEGENAPP_MAX_BODY_BYTES" in detail
    few_but_many = {f"VAR_{n}_TOKEN": "t" for n in range(600)}
    response = await client.post(
        "/api/v1/projects",
        json=_body(tmp_path, deployment_settings={"environment_variables": few_but_many}),
    )
    assert "deployment_settings.environment_variables" in _refusal(response)[1]
    await _nothing_was_written(client)
    await _healthy_fast(server_)


async def test_a_body_over_the_cap_is_a_413_with_the_limit_whether_its_length_is_said_or_not(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    big = json.dumps(_body(tmp_path, name="x" * (2 * 1024 * 1024))).encode()
    said = await client.post(
        "/api/v1/projects", content=big, headers={"Content-Type": "application/json"}
    )
    assert "1048576 bytes" in _refusal(said, 413)[0]

    async def chunks():  # no Content-Length: chunked transfer encoding
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    chunked = await client.post(
        "/api/v1/projects", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "1048576 bytes" in _refusal(chunked, 413)[0]
    await _nothing_was_written(client)


async def test_without_a_token_the_body_is_never_read_and_the_answer_is_401(
    server_: Server,
) -> None:
    # A 100 MB body announced, 9 bytes sent: the 401 comes back anyway, at once.
    reader, writer = await asyncio.open_connection("127.0.0.1", server_.settings.port)
    writer.write(
        b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 104857600\r\n\r\n{not json"
    )
    head = (await asyncio.wait_for(reader.readline(), 5)).decode()
    writer.close()
    assert head.startswith("HTTP/1.1 401"), head
    async with httpx.AsyncClient(base_url=server_.url) as anonymous:
        malformed = await anonymous.post(
            "/api/v1/agent-runs", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        _refusal(malformed, 401)
        assert (await anonymous.get("/openapi.json")).status_code == 401
        assert (await anonymous.get("/docs")).status_code == 401
    async with httpx.AsyncClient(base_url=server_.url, headers=server_.headers) as client:
        assert (await client.get("/docs")).status_code == 404  # off unless turned on
        assert (await client.get("/redoc")).status_code == 404


async def test_a_deeply_nested_body_is_a_4xx_not_a_crash(
    client: httpx.AsyncClient, server_: Server
) -> None:
    deep = b'{"project_id": 1, "goal": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = await client.post(
        "/api/v1/agent-runs", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert set(response.json()) == {"detail", "errors"}
    await _healthy_fast(server_)


async def test_a_405_names_every_method_the_path_takes(client: httpx.AsyncClient) -> None:
    for path, allowed in (
        ("/api/v1/projects", "GET, HEAD, POST"),
        ("/api/v1/projects/1", "DELETE, GET, HEAD, PUT"),
        ("/api/v1/agent-runs", "GET, HEAD, POST"),
    ):
        response = await client.patch(path, json={})
        assert response.status_code == 405
        assert response.headers["allow"] == allowed
        assert set(response.json()) == {"detail", "errors"}


async def test_every_answer_carries_the_browser_security_headers(server_: Server) -> None:
    async with httpx.AsyncClient(base_url=server_.url) as anonymous:
        for path in ("/", "/projects/1", "/health", "/api/v1/projects"):
            headers = (await anonymous.get(path)).headers
            policy = headers["content-security-policy"]
            for directive in ("script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"):
                assert directive in policy
            assert "unsafe-inline" not in policy
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert headers["x-frame-options"] == "DENY"


async def test_the_websocket_refuses_a_page_from_another_origin(server_: Server) -> None:
    url = f"{server_.ws_url}?token={TEST_TOKEN}"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    own = f"http://127.0.0.1:{server_.settings.port}"
    async with websockets.connect(url, origin=own) as ws:  # type: ignore[arg-type]
        await ws.ping()


async def test_a_retried_post_with_the_same_key_creates_nothing_new(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    body = _body(tmp_path)
    key = {"Idempotency-Key": "create-shop-1"}
    first = await client.post("/api/v1/projects", json=body, headers=key)
    again = await client.post("/api/v1/projects", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    other = await client.post("/api/v1/projects", json={**body, "name": "other"}, headers=key)
    assert "idempotency-key" in _refusal(other)[1]

    run = {"project_id": first.json()["id"], "goal": "Say hi"}
    runs = await asyncio.gather(
        *(
            client.post("/api/v1/agent-runs", json=run, headers={"Idempotency-Key": "r"})
            for _ in "123"
        )
    )
    assert {r.status_code for r in runs} == {201}, [r.text for r in runs]
    assert len({r.json()["id"] for r in runs}) == 1
    assert (await client.get("/api/v1/agent-runs")).json()["total"] == 1
    assert (await client.get("/api/v1/projects")).json()["total"] == 1


async def test_api_docs_when_turned_on_need_the_token_and_load_nothing_from_elsewhere(
    make_settings: SettingsFactory,
) -> None:
    async for server in serve(make_settings(api_docs=True)):
        async with httpx.AsyncClient(base_url=server.url) as anonymous:
            assert (await anonymous.get("/docs")).status_code == 401
            page = await anonymous.get(f"/docs?token={TEST_TOKEN}")
            assert page.status_code == 200
            assert "swagger-ui-bundle.js" in page.text
            assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no other host
            for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "codegenapp-docs.js"):
                assert (await anonymous.get(f"/docs/assets/{asset}")).status_code == 200


@pytest.mark.parametrize("bad", ["\\ud800", "\\u0000"])
async def test_a_secret_with_a_surrogate_or_nul_is_a_422_and_nothing_is_stored(
    client: httpx.AsyncClient, tmp_path: Path, bad: str
) -> None:
    project = (await client.post("/api/v1/projects", json=_body(tmp_path))).json()["id"]
    url = f"/api/v1/projects/{project}/secrets"
    for field, raw in (
        ("name", f'{{"name": "KE{bad}Y", "value": "long enough"}}'),
        ("value", f'{{"name": "KEY", "value": "long {bad} enough"}}'),
    ):
        response = await client.post(url, content=raw, headers={"Content-Type": "application/json"})
        assert field in _refusal(response)[1], (field, response.text)
    assert (await client.get(url)).json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "parameter"),
    [
        ("GET", f"/api/v1/projects/{BIG}/secrets", "project_id"),
        ("POST", f"/api/v1/projects/{MAX_ID + 1}/secrets", "project_id"),
        ("DELETE", "/api/v1/projects/1/secrets/NOT%20A%20NAME", "name"),
        ("DELETE", "/api/v1/projects/1/secrets/A%00B", "name"),
        ("DELETE", "/api/v1/projects/1/secrets/" + "A" * 129, "name"),
        ("DELETE", f"/api/v1/projects/{BIG}/secrets/KEY", "project_id"),
    ],
)
async def test_a_bad_id_or_name_on_the_secrets_routes_is_a_422_naming_it(
    client: httpx.AsyncClient, method: str, path: str, parameter: str
) -> None:
    body = {"name": "KEY", "value": "long enough"} if method == "POST" else None
    _, fields = _refusal(await client.request(method, path, json=body))
    assert parameter in fields, fields


# --- GitHub's webhook: signed, so only GitHub (or whoever holds the secret) gets this far ----

WEBHOOK_SECRET = "hostile-webhook-secret"
OPENED = (
    Path(__file__).resolve().parents[1]
    / "fixtures/github-webhooks/pull_request/opened.payload.json"
)


def _signed(body: bytes, event: str) -> dict[str, str]:
    digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": f"hostile-{hashlib.sha256(body).hexdigest()[:16]}",
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }


def _opened(change: Callable[[dict[str, Any]], None]) -> bytes:
    payload = json.loads(OPENED.read_text())
    change(payload)
    return json.dumps(payload).encode()


@pytest.fixture
async def hooked(make_settings: SettingsFactory, database_url: str | None) -> AsyncIterator[Server]:
    settings = make_settings(database_url=database_url, github_webhook_secret=WEBHOOK_SECRET)
    async for server in serve(settings):
        yield server


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["pull_request"].update(number=2**70), "pull_request.number"),
        (lambda p: p["pull_request"]["head"].update(sha="x" * 300), "pull_request.head.sha"),
        (lambda p: p["pull_request"].update(title="a\u0000b"), "pull_request.title"),
        (lambda p: p["pull_request"]["head"].update(ref="\ud800"), "pull_request.head.ref"),
        (lambda p: p["repository"].update(full_name="a/" + "b" * 5000), "repository.full_name"),
    ],
)
async def test_a_signed_delivery_with_a_field_we_cannot_store_is_a_400_naming_it(
    hooked: Server, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    body = _opened(change)
    async with httpx.AsyncClient(base_url=hooked.url) as hook:
        answer = await hook.post(
            "/api/v1/webhooks/github", content=body, headers=_signed(body, "pull_request")
        )
    detail, _ = _refusal(answer, 400)
    assert field in detail, detail
    await _healthy_fast(hooked)


async def test_a_signed_delivery_nested_past_any_parser_is_a_400_not_a_crash(
    hooked: Server,
) -> None:
    body = b'{"zen": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    async with httpx.AsyncClient(base_url=hooked.url) as hook:
        answer = await hook.post(
            "/api/v1/webhooks/github", content=body, headers=_signed(body, "ping")
        )
    _refusal(answer, 400)
    await _healthy_fast(hooked)


async def test_a_signed_delivery_with_nul_or_a_lone_surrogate_where_we_do_not_read_is_stored(
    hooked: Server,
) -> None:
    body = b'{"zen": "a\\u0000b\\ud800", "hook_id": 1}'  # ignored fields, stored as they came
    async with httpx.AsyncClient(base_url=hooked.url) as hook:
        answer = await hook.post(
            "/api/v1/webhooks/github", content=body, headers=_signed(body, "ping")
        )
    assert answer.status_code == 202, answer.text
    await _healthy_fast(hooked)


@pytest.mark.parametrize("action", ["merge", "retry"])
async def test_a_validation_action_on_an_id_beyond_the_database_is_a_422_naming_it(
    client: httpx.AsyncClient, action: str
) -> None:
    _, fields = _refusal(await client.post(f"/api/v1/validations/{BIG}/{action}"))
    assert list(fields) == ["validation_id"], fields


async def test_approving_a_change_of_a_run_beyond_the_database_is_a_422_naming_it(
    client: httpx.AsyncClient,
) -> None:
    _, fields = _refusal(await client.post(f"/api/v1/agent-runs/{BIG}/approve-change"))
    assert list(fields) == ["run_id"], fields


async def test_whoami_refuses_a_forged_token_and_any_method_but_get(server_: Server) -> None:
    forged = {"Authorization": "Bearer " + "x" * 5000}
    async with httpx.AsyncClient(base_url=server_.url) as anonymous:
        for headers in ({}, forged, {"Authorization": "Basic Zm9vOmJhcg=="}):
            refused = await anonymous.get("/api/v1/whoami", headers=headers)
            _refusal(refused, 401)
            assert "x" * 50 not in refused.text  # the token is never echoed
    async with httpx.AsyncClient(base_url=server_.url, headers=server_.headers) as client:
        response = await client.post("/api/v1/whoami", json={})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"
        assert set(response.json()) == {"detail", "errors"}
