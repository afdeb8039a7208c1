"""GitHub webhook deliveries at the door: real payloads (tests/fixtures/github-webhooks),
signed as GitHub signs them, sent over HTTP to a real server on SQLite and PostgreSQL. The
signature is checked before anything is read, the delivery is stored before the 2xx, a
redelivery starts nothing new, and processing happens after the answer."""

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from tests.conftest import Server, SettingsFactory, serve
from tests.support.waiting import until

from codegenapp.db.queries import webhook_deliveries
from codegenapp.db.tables import WebhookDeliveryRow
from codegenapp.domain.webhooks import MAX_DELIVERY_BYTES, DeliveryStatus
from codegenapp.flows import webhooks
from codegenapp.main import running

FIXTURES = (
    Path(__file__).resolve().parents[1] / "fixtures" / "github-webhooks"
)  # as GitHub sent them
SECRET = "It's a Secret to Everybody"  # GitHub's own example secret
URL = "/api/v1/webhooks/github"


def fixture(event: str, name: str) -> bytes:
    return (FIXTURES / event / name).read_bytes()


def signed(
    body: bytes, event: str, delivery: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "Content-Type": "application/json",
    }


@pytest.fixture
async def github_server(
    make_settings: SettingsFactory, database_url: str | None
) -> AsyncIterator[Server]:
    settings = make_settings(database_url=database_url, github_webhook_secret=SECRET)
    async for server in serve(settings):
        yield server


@pytest.fixture
async def hook(github_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no token: GitHub has none, the signature is its authentication."""
    async with httpx.AsyncClient(base_url=github_server.url) as client:
        yield client


async def stored(server: Server, delivery_id: str) -> WebhookDeliveryRow | None:
    async with server.runtime.database.read() as session:
        return await webhook_deliveries.get_delivery(session, delivery_id)


async def processed(server: Server, delivery_id: str) -> WebhookDeliveryRow:
    async def check() -> WebhookDeliveryRow | None:
        row = await stored(server, delivery_id)
        return row if row is not None and row.processed_at is not None else None

    return await until(server.runtime, check, timeout=30)


async def delivery_count(server: Server) -> int:
    async with server.runtime.database.read() as session:
        count = await session.scalar(
            sqlalchemy.select(sqlalchemy.func.count(WebhookDeliveryRow.id))
        )
    return int(count or 0)


async def test_a_signed_pull_request_is_stored_acknowledged_and_then_processed(
    github_server: Server, hook: httpx.AsyncClient
) -> None:
    body = fixture("pull_request", "opened.payload.json")
    headers = signed(body, "pull_request")
    answer = await hook.post(URL, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    receipt = answer.json()
    assert receipt["delivery_id"] == headers["X-GitHub-Delivery"]
    assert (receipt["event"], receipt["action"]) == ("pull_request", "opened")
    assert (receipt["duplicate"], receipt["acted_on"]) == (False, True)

    row = await processed(github_server, receipt["delivery_id"])
    assert row.payload["number"] == 2  # the payload as GitHub sent it
    # No project here is that repository: acknowledged, recorded, nothing started.
    assert row.status == DeliveryStatus.IGNORED
    assert "Codertocat/Hello-World" in (row.error or "")


async def test_a_redelivered_webhook_starts_nothing_new(
    github_server: Server, hook: httpx.AsyncClient
) -> None:
    body = fixture("pull_request", "synchronize.payload.json")
    headers = signed(body, "pull_request")
    first = await hook.post(URL, content=body, headers=headers)
    again = await hook.post(URL, content=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True
    await processed(github_server, headers["X-GitHub-Delivery"])
    assert await delivery_count(github_server) == 1


async def test_concurrent_copies_of_one_delivery_are_stored_once(
    github_server: Server, hook: httpx.AsyncClient
) -> None:
    body = fixture("pull_request", "reopened.payload.json")
    headers = signed(body, "pull_request")
    answers = await asyncio.gather(
        *(hook.post(URL, content=body, headers=headers) for _ in range(8))
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] * 7 + [202], [answer.text for answer in answers]
    await processed(github_server, headers["X-GitHub-Delivery"])
    assert await delivery_count(github_server) == 1


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 401, "does not match"),
        ({"X-Hub-Signature-256": None}, 401, "X-Hub-Signature-256 header is missing"),
        ({"X-GitHub-Event": None}, 400, "X-GitHub-Event header is missing"),
        ({"X-GitHub-Delivery": None}, 400, "X-GitHub-Delivery header is missing"),
        ({"X-GitHub-Delivery": "x" * 200}, 400, "too long"),
    ],
)
async def test_a_delivery_that_is_not_githubs_is_refused_and_nothing_is_stored(
    github_server: Server,
    hook: httpx.AsyncClient,
    change: dict[str, str | None],
    status: int,
    words: str,
) -> None:
    body = fixture("pull_request", "opened.payload.json")
    headers: dict[str, str] = {}
    for name, value in {**signed(body, "pull_request"), **change}.items():
        if value is not None:
            headers[name] = value
    answer = await hook.post(URL, content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    assert await delivery_count(github_server) == 0


async def test_a_body_signed_with_another_secret_is_refused(hook: httpx.AsyncClient) -> None:
    body = fixture("push", "payload.json")
    answer = await hook.post(URL, content=body, headers=signed(body, "push", secret="guess"))
    assert answer.status_code == 401


async def test_a_signed_body_that_is_not_json_is_a_400(hook: httpx.AsyncClient) -> None:
    body = b"payload=%7B%22zen%22%3A%22hi%22%7D"  # a hook set to application/x-www-form-urlencoded
    answer = await hook.post(URL, content=body, headers=signed(body, "ping"))
    assert answer.status_code == 400
    assert "application/json" in answer.json()["detail"]


async def test_a_pull_request_delivery_without_its_head_is_a_400(hook: httpx.AsyncClient) -> None:
    body = (
        b'{"action": "opened", "pull_request": {"number": 1}, "repository": {"full_name": "a/b"}}'
    )
    answer = await hook.post(URL, content=body, headers=signed(body, "pull_request"))
    assert answer.status_code == 400
    assert "pull_request" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("issue_comment", "created.payload.json"),
        ("status", "payload.json"),
        ("pull_request", "labeled.payload.json"),
        ("check_run", "completed.payload.json"),
        ("installation", "created.payload.json"),
    ],
)
async def test_an_event_we_do_not_act_on_is_acknowledged_and_ignored(
    github_server: Server, hook: httpx.AsyncClient, event: str, name: str
) -> None:
    body = fixture(event, name)
    headers = signed(body, event)
    answer = await hook.post(URL, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["acted_on"] is False
    row = await stored(github_server, headers["X-GitHub-Delivery"])
    assert row is not None
    assert row.status == DeliveryStatus.IGNORED
    assert "not an event this server acts on" in (row.error or "")


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("ping", "payload.json"),
        ("push", "with-new-branch.payload.json"),
        ("check_run", "rerequested.payload.json"),
        ("check_suite", "rerequested.payload.json"),
        ("pull_request", "closed.payload.json"),
        ("pull_request", "ready_for_review.payload.json"),
    ],
)
async def test_every_event_we_act_on_parses_from_githubs_own_payload(
    github_server: Server, hook: httpx.AsyncClient, event: str, name: str
) -> None:
    body = fixture(event, name)
    headers = signed(body, event)
    answer = await hook.post(URL, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["acted_on"] is True
    row = await processed(github_server, headers["X-GitHub-Delivery"])
    assert row.status != DeliveryStatus.FAILED, row.error


async def test_a_tag_push_is_acknowledged_and_ignored(hook: httpx.AsyncClient) -> None:
    body = fixture("push", "payload.json")  # refs/tags/simple-tag
    answer = await hook.post(URL, content=body, headers=signed(body, "push"))
    assert answer.status_code == 202
    assert answer.json()["acted_on"] is False


async def test_a_delivery_larger_than_the_api_limit_but_within_githubs_is_accepted(
    hook: httpx.AsyncClient,
) -> None:
    padding = "x" * (2 * 1024 * 1024)  # twice the API's own 1 MiB: a push of many commits
    body = b'{"zen": "' + padding.encode() + b'", "hook_id": 1}'
    answer = await hook.post(URL, content=body, headers=signed(body, "ping"))
    assert answer.status_code == 202, answer.text[:200]


async def test_a_delivery_beyond_githubs_cap_is_a_413_even_without_a_length(
    github_server: Server, hook: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        chunk = b" " * (1024 * 1024)
        for _ in range(MAX_DELIVERY_BYTES // len(chunk) + 1):
            yield chunk

    headers = signed(b"", "ping")  # the signature cannot match; the size is refused first
    answer = await hook.post(URL, content=chunks(), headers=headers)
    assert answer.status_code == 413
    assert "GitHub's own cap" in answer.json()["detail"]
    # Announced too large, barely sent: refused on the header, without waiting for the body.
    reader, writer = await asyncio.open_connection("127.0.0.1", github_server.settings.port)
    writer.write(
        f"POST {URL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_DELIVERY_BYTES + 1}\r\n\r\n{{".encode()
    )
    head = (await asyncio.wait_for(reader.readline(), 5)).decode()
    writer.close()
    assert head.startswith("HTTP/1.1 413"), head
    assert await delivery_count(github_server) == 0


async def test_the_webhook_route_is_the_only_open_post(github_server: Server) -> None:
    async with httpx.AsyncClient(base_url=github_server.url) as anonymous:
        other = await anonymous.post("/api/v1/webhooks/gitlab", content=b"{}")
        projects = await anonymous.post("/api/v1/projects", json={})
        hooked = await anonymous.get(URL)
    assert (other.status_code, projects.status_code, hooked.status_code) == (401, 401, 401)
    async with httpx.AsyncClient(base_url=github_server.url, headers=github_server.headers) as c:
        wrong_method = await c.get(URL)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"


async def test_webhooks_are_refused_while_no_secret_is_set(
    make_settings: SettingsFactory,
) -> None:
    body = fixture("ping", "payload.json")
    async for server in serve(make_settings()):
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.post(URL, content=body, headers=signed(body, "ping"))
        assert answer.status_code == 503
        assert "GITHUB_WEBHOOK_SECRET" in answer.json()["detail"]
        assert await delivery_count(server) == 0


async def test_a_delivery_that_cannot_be_stored_gets_a_5xx_never_a_2xx(
    github_server: Server, hook: httpx.AsyncClient
) -> None:
    async with github_server.runtime.database.transaction() as session:
        await session.execute(sqlalchemy.text("DROP TABLE webhook_deliveries"))
    body = fixture("pull_request", "opened.payload.json")
    answer = await hook.post(URL, content=body, headers=signed(body, "pull_request"))
    assert answer.status_code == 500
    assert "internal error" in answer.json()["detail"]


async def test_a_delivery_stored_by_a_server_that_died_before_launching_it_is_processed_at_restart(
    make_settings: SettingsFactory, database_url: str | None
) -> None:
    settings = make_settings(database_url=database_url, github_webhook_secret=SECRET)
    body = fixture("pull_request", "opened.payload.json")
    headers = {name.lower(): value for name, value in signed(body, "pull_request").items()}
    delivery_id = headers["x-github-delivery"]
    # Stored and acknowledged, then the process went away before its background launch.
    async with running(settings):
        receipt = await webhooks.receive("github", body, headers)
        assert receipt.acted_on
        assert not receipt.duplicate
    async with running(settings) as runtime:

        async def check() -> WebhookDeliveryRow | None:
            async with runtime.database.read() as session:
                row = await webhook_deliveries.get_delivery(session, delivery_id)
            return row if row is not None and row.processed_at is not None else None

        row = await until(runtime, check, timeout=30)
    assert row.status == DeliveryStatus.IGNORED
