"""A lost webhook never strands a pull request: the sweep lists every GitHub project's open pull
requests and validates the heads nobody told us about, with a conditional request that costs
nothing when nothing changed; a delivery stored but never launched is launched by it too."""

import hmac
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import Server, SettingsFactory
from tests.fakes.github import FakeGitHub
from tests.support.github import REPO, SECRET, create_project, serve_on
from tests.support.projects import APP
from tests.support.waiting import until

from codegenapp.db.queries import validations, webhook_deliveries
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.states import ValidationStatus
from codegenapp.domain.webhooks import DeliveryStatus
from codegenapp.flows import forge_sweep, webhooks


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": APP})
        yield fake


@pytest.fixture
async def server(make_settings: SettingsFactory, github: FakeGitHub) -> AsyncIterator[Server]:
    async for running in serve_on(make_settings, github):
        yield running


async def make_project(server: Server) -> int:
    return await create_project(
        server,
        deployment_settings={"build_command": "python3 -m py_compile app.py"},
        validation_settings={"required_checks": ["build"], "validate_base_branch": False},
    )


async def validations_of(server: Server, project_id: int) -> list[ValidationRow]:
    async with server.runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, project_id=project_id)
    return rows


async def test_a_pull_request_whose_webhook_was_lost_is_validated_by_the_sweep(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server)
    head = await github.push(REPO, "feature", {"app.py": APP + "# more\n"}, "More")
    await github.deliveries_sent()
    github.lose_next_delivery()
    pr = await github.open_pull_request(REPO, "feature", "main", "More", "outsider")
    await github.deliveries_sent()
    assert await validations_of(server, project_id) == []  # nobody told the server

    notes = await forge_sweep.sweep_once()
    assert notes == [f"app: #{pr.number} at {head[:12]}: validation 1 queued"], notes

    async def passed() -> ValidationRow | None:
        rows = await validations_of(server, project_id)
        return next((r for r in rows if r.status == ValidationStatus.PASSED), None)

    validation = await until(server.runtime, passed, timeout=120)
    assert validation.head_sha == head

    listed = len(github.requests)
    assert await forge_sweep.sweep_once() == []  # the head has its validation: no news
    listings = [r for r in github.requests[listed:] if r.path == f"/repos/{REPO}/pulls"]
    assert [r.status for r in listings] == [304]  # and it cost no rate limit
    assert len(await validations_of(server, project_id)) == 1


async def test_a_delivery_stored_but_never_launched_is_launched_by_the_sweep(
    server: Server, github: FakeGitHub
) -> None:
    await make_project(server)
    body = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    headers = {
        "x-github-event": "ping",
        "x-github-delivery": "stranded-1",
        "x-hub-signature-256": "sha256=" + hmac.new(SECRET.encode(), body, "sha256").hexdigest(),
    }
    receipt = await webhooks.receive("github", body, headers)  # stored, never launched
    assert receipt.acted_on
    await webhooks.launch_unprocessed(older_than=forge_sweep.STRANDED_AFTER)  # too young yet
    async with server.runtime.database.read() as session:
        row = await webhook_deliveries.get_delivery(session, "stranded-1")
    assert row is not None
    assert row.status == DeliveryStatus.RECEIVED

    await webhooks.launch_unprocessed()  # as the sweep does once it is old enough

    async def processed() -> DeliveryStatus | None:
        async with server.runtime.database.read() as session:
            row = await webhook_deliveries.get_delivery(session, "stranded-1")
        return DeliveryStatus(row.status) if row and row.processed_at else None

    assert await until(server.runtime, processed, timeout=30) == DeliveryStatus.PROCESSED
