"""Every pull request on a GitHub project is validated: the fake GitHub sends signed webhooks
to a real server, which validates the head in a real sandbox, reports a commit status back,
merges with the sha guard when the author may be merged automatically, and stops validating
what was closed or superseded. Everything crosses HTTP; nothing of ours is mocked."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import Server, SettingsFactory
from tests.fakes.github import FakeGitHub
from tests.support.github import REPO, create_project, serve_on
from tests.support.projects import APP
from tests.support.waiting import until

from codegenapp.db.queries import validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.states import ValidationStatus

PASSING_CHECK = "print('checks pass')\n"
FAILING_CHECK = "import sys\nprint('AssertionError: 2 != 3')\nsys.exit(1)\n"
# A check that waits for a file the test writes never arrives: the validation stays running.
SLOW_CHECK = "import time\ntime.sleep(120)\n"


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": APP, "check.py": PASSING_CHECK})
        yield fake


@pytest.fixture
async def server(make_settings: SettingsFactory, github: FakeGitHub) -> AsyncIterator[Server]:
    async for running in serve_on(make_settings, github):
        yield running


async def make_project(server: Server, **validation: object) -> int:
    return await create_project(
        server,
        deployment_settings={
            "build_command": "python3 -m py_compile app.py",
            "deploy_command": "python3 app.py",
            "health_check_url": "/health",
            "port": 9000,
        },
        validation_settings={
            "required_checks": ["build", "test", "health"],
            "test_command": "python3 check.py",
            "validate_base_branch": False,
            **validation,
        },
    )


async def validation_of(
    server: Server, project_id: int, head_sha: str, *statuses: ValidationStatus
) -> ValidationRow:
    """The project's validation of `head_sha` once it is in one of `statuses`."""

    async def check() -> ValidationRow | None:
        async with server.runtime.database.read() as session:
            rows, _ = await validations.list_validations(session, project_id=project_id)
        for row in rows:
            if row.head_sha == head_sha and ValidationStatus(row.status) in statuses:
                return row
        return None

    return await until(server.runtime, check, timeout=120)


FINAL = tuple(status for status in ValidationStatus if status.is_final)


async def reported(github: FakeGitHub, sha: str) -> list[str]:
    """The commit statuses GitHub got for `sha`, once one of them is a verdict."""

    def verdict() -> list[str] | None:
        states = [status.state for status in github.statuses(REPO, sha)]
        return states if states and states[-1] != "pending" else None

    return await github.until(verdict)


async def merge_decided(server: Server, validation_id: int) -> ValidationRow:
    """The passed validation once it is merged, or once it says why it was not."""

    async def check() -> ValidationRow | None:
        async with server.runtime.database.read() as session:
            row = await validations.require_validation(session, validation_id)
        return row if row.merged or row.merge_blocked_reason else None

    return await until(server.runtime, check, timeout=60)


async def test_an_outside_authors_pull_request_is_validated_reported_and_not_merged(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server)
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# more\n"}, "More")
    pr = await github.open_pull_request(REPO, "feature", "main", "More checks", "outsider")

    validation = await validation_of(server, project_id, head, *FINAL)
    assert validation.status == ValidationStatus.PASSED, validation.reason
    assert validation.agent_run_id is None
    decided = await merge_decided(server, validation.id)
    assert not decided.merged
    assert "outsider" in (decided.merge_blocked_reason or "")
    assert not github.merges
    assert await reported(github, head) == ["pending", "success"]
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        shown = (await client.get(f"/api/v1/validations/{validation.id}")).json()
    assert shown["pull_request"]["author"] == "outsider"
    assert shown["pr_number"] == pr.number


async def test_an_allowed_authors_pull_request_is_merged_exactly_at_the_validated_head(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server, auto_merge_authors=["trusted"], merge_method="squash")
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# ok\n"}, "Ok")
    pr = await github.open_pull_request(REPO, "feature", "main", "Ok", "trusted")

    validation = await validation_of(server, project_id, head, *FINAL)
    assert validation.status == ValidationStatus.PASSED, validation.reason
    row = await merge_decided(server, validation.id)
    assert row.merged, row.merge_blocked_reason
    assert [(m.number, m.method) for m in github.merges] == [(pr.number, "squash")]
    merged = github.pull_request(REPO, pr.number)
    assert (merged.head_sha, merged.merge_commit_sha) == (head, row.merge_sha)


async def test_a_push_between_validation_and_merge_refuses_the_merge_and_validates_the_new_head(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server, auto_merge_authors=["trusted"])
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# ok\n"}, "Ok")
    pr = await github.open_pull_request(REPO, "feature", "main", "Ok", "trusted")
    pushed: list[str] = []

    async def push_while_merging() -> None:
        # Its webhooks are lost: only the refused merge can tell the server the head moved.
        github.lose_next_delivery(2)
        pushed.append(await github.push(REPO, "feature", {"late.txt": "1\n"}, "Late"))

    github.before_next_merge(push_while_merging)

    validation = await validation_of(server, project_id, head, *FINAL)
    assert validation.status == ValidationStatus.PASSED, validation.reason
    refused = await merge_decided(server, validation.id)
    assert not refused.merged
    assert "merge refused" in (refused.merge_blocked_reason or "")
    assert f"moved to {pushed[0][:12]}, which is validated next" in (
        refused.merge_blocked_reason or ""
    )
    again = await validation_of(server, project_id, pushed[0], *FINAL)
    assert again.status == ValidationStatus.PASSED, again.reason
    assert (await merge_decided(server, again.id)).merged
    assert github.pull_request(REPO, pr.number).merge_commit_sha is not None
    assert github.pull_request(REPO, pr.number).head_sha == pushed[0]


async def test_server_errors_and_a_rate_limit_from_github_are_waited_out_and_the_pr_merged(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server, auto_merge_authors=["trusted"])
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# 5xx\n"}, "Ok")
    github.fail_next(2, status=502)
    github.rate_limit_next("secondary", status=403)
    await github.open_pull_request(REPO, "feature", "main", "Ok", "trusted")

    validation = await validation_of(server, project_id, head, *FINAL)
    assert validation.status == ValidationStatus.PASSED, validation.reason
    assert (await merge_decided(server, validation.id)).merged
    answered = [r.status for r in github.requests]
    assert answered.count(502) == 2
    assert 403 in answered


async def test_github_down_during_a_validation_ends_it_as_an_error_naming_githubs_answer(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server, auto_merge_authors=["trusted"])
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# down\n"}, "Ok")
    await github.open_pull_request(REPO, "feature", "main", "Ok", "trusted")
    await github.deliveries_sent()
    github.go_down(status=503)

    validation = await validation_of(server, project_id, head, *FINAL)
    github.come_back()
    assert validation.status == ValidationStatus.ERROR
    reason = validation.reason or ""
    assert "GitHub answered 503" in reason, reason
    assert "internal error" not in reason, reason
    assert not github.merges


async def test_a_failing_pull_request_gets_a_failure_status_and_is_not_merged(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server, auto_merge_authors=["trusted"])
    head = await github.push(REPO, "broken", {"check.py": FAILING_CHECK}, "Break it")
    await github.open_pull_request(REPO, "broken", "main", "Break it", "trusted")

    validation = await validation_of(server, project_id, head, *FINAL)
    assert validation.status == ValidationStatus.FAILED
    assert await reported(github, head) == ["pending", "failure"]
    assert not github.merges


async def test_a_new_head_supersedes_the_validation_of_the_old_one(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server)
    old = await github.push(REPO, "feature", {"check.py": SLOW_CHECK}, "Slow")
    await github.open_pull_request(REPO, "feature", "main", "Slow", "outsider")
    await validation_of(server, project_id, old, ValidationStatus.RUNNING)

    new = await github.push(REPO, "feature", {"check.py": PASSING_CHECK}, "Fast again")
    superseded = await validation_of(server, project_id, old, ValidationStatus.CANCELLED)
    assert superseded.reason == f"superseded by {new[:12]}"
    fresh = await validation_of(server, project_id, new, *FINAL)
    assert fresh.status == ValidationStatus.PASSED, fresh.reason


async def test_closing_a_pull_request_cancels_its_validation(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server)
    head = await github.push(REPO, "feature", {"check.py": SLOW_CHECK}, "Slow")
    pr = await github.open_pull_request(REPO, "feature", "main", "Slow", "outsider")
    await validation_of(server, project_id, head, ValidationStatus.RUNNING)

    github.close_pull_request(REPO, pr.number)
    cancelled = await validation_of(server, project_id, head, ValidationStatus.CANCELLED)
    assert cancelled.reason == "the pull request was closed"


async def test_a_redelivered_pull_request_is_not_validated_twice(
    server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(server)
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# x\n"}, "X")
    await github.open_pull_request(REPO, "feature", "main", "X", "outsider")
    await validation_of(server, project_id, head, *FINAL)
    await github.deliveries_sent()
    opened = next(d for d in github.deliveries if d.event == "pull_request")
    github.redeliver(opened.guid)
    await github.deliveries_sent()

    async with server.runtime.database.read() as session:
        rows, total = await validations.list_validations(session, project_id=project_id)
    assert total == 1, [(row.id, row.head_sha, row.status) for row in rows]
