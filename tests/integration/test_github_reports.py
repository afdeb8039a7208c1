"""What a validation shows on GitHub: with an App, an aggregate check run with a markdown
summary and one check run per required check; with a token, a commit status; after a failure,
one pull request comment that later attempts rewrite; and nothing at all when the project
turns `github_status_updates` off. Signed webhooks in, the real server, the fake GitHub out."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from dbos import DBOS, WorkflowHandleAsync
from tests.conftest import Server, SettingsFactory
from tests.fakes.github import CheckRun, Comment, FakeGitHub
from tests.support.github import REPO, create_project, serve_on
from tests.support.projects import APP
from tests.support.waiting import until

from codegenapp.db.queries import validations
from codegenapp.db.tables import ValidationRow
from codegenapp.domain.reports import COMMENT_MARKER
from codegenapp.domain.states import ValidationStatus
from codegenapp.flows.validation import ValidationReport, workflow_id

PUBLIC = "https://codegenapp.example.com"
PASSING_CHECK = "print('checks pass')\n"
FAILING_CHECK = "import sys\nprint('AssertionError: 2 != 3')\nsys.exit(1)\n"
REQUIRED = ("build", "test", "health")
NAMES = {"codegenapp", *(f"codegenapp / {check}" for check in REQUIRED)}
FINAL = tuple(status for status in ValidationStatus if status.is_final)


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(
            REPO, files={"app.py": APP, "check.py": PASSING_CHECK}, collaborators=("outsider",)
        )
        yield fake


@pytest.fixture
async def app_server(make_settings: SettingsFactory, github: FakeGitHub) -> AsyncIterator[Server]:
    async for running in serve_on(
        make_settings,
        github,
        public_url=PUBLIC,
        github_app_id=github.app_id,
        github_app_private_key=github.private_key_pem,
    ):
        yield running


@pytest.fixture
async def token_server(make_settings: SettingsFactory, github: FakeGitHub) -> AsyncIterator[Server]:
    async for running in serve_on(make_settings, github, public_url=PUBLIC):
        yield running


async def make_project(server: Server, *, notifications: dict[str, object] | None = None) -> int:
    return await create_project(
        server,
        deployment_settings={
            "build_command": "python3 -m py_compile app.py",
            "deploy_command": "python3 app.py",
            "health_check_url": "/health",
            "port": 9000,
        },
        validation_settings={
            "required_checks": list(REQUIRED),
            "test_command": "python3 check.py",
            "validate_base_branch": False,
        },
        notification_settings=notifications or {},
    )


async def finished(server: Server, project_id: int, head_sha: str) -> ValidationRow:
    """The project's validation of `head_sha` once its whole workflow (reports, comment and
    merge decision included) has returned."""

    async def final() -> ValidationRow | None:
        async with server.runtime.database.read() as session:
            rows, _ = await validations.list_validations(session, project_id=project_id)
        found = (r for r in rows if r.head_sha == head_sha and ValidationStatus(r.status) in FINAL)
        return next(found, None)

    row = await until(server.runtime, final, timeout=120)
    handle: WorkflowHandleAsync[ValidationReport] = await DBOS.retrieve_workflow_async(
        workflow_id(row.id)
    )
    await handle.get_result(polling_interval_sec=0.02)
    async with server.runtime.database.read() as session:
        return await validations.require_validation(session, row.id)


async def concluded_runs(github: FakeGitHub, sha: str) -> dict[str, CheckRun]:
    """The check runs on `sha` by name, once all of ours are completed."""

    def done() -> dict[str, CheckRun] | None:
        runs = {run.name: run for run in github.check_runs(REPO, sha)}
        complete = set(runs) == NAMES and all(r.status == "completed" for r in runs.values())
        return runs if complete else None

    return await github.until(done)


async def one_comment(github: FakeGitHub, number: int, says: Callable[[str], bool]) -> Comment:
    def found() -> Comment | None:
        comments = github.comments(REPO, number)
        return comments[0] if len(comments) == 1 and says(comments[0].body) else None

    return await github.until(found)


async def test_a_passing_pull_request_gets_a_successful_check_run_that_lists_its_steps(
    app_server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(app_server)
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# more\n"}, "More")
    pr = await github.open_pull_request(REPO, "feature", "main", "More checks", "outsider")

    validation = await finished(app_server, project_id, head)
    assert validation.status == ValidationStatus.PASSED, validation.reason
    runs = await concluded_runs(github, head)
    aggregate = runs["codegenapp"]
    assert (aggregate.conclusion, aggregate.external_id) == ("success", str(validation.id))
    assert aggregate.details_url == f"{PUBLIC}/projects/{project_id}"
    summary = aggregate.output["summary"] or ""
    for step in ("snapshot", "clone", "deploy", "health_check", "cleanup"):
        assert f"| {step} | passed |" in summary, summary
    assert {name: run.conclusion for name, run in runs.items()} == dict.fromkeys(NAMES, "success")
    assert github.statuses(REPO, head) == [], "an App reports with check runs only"
    comment = await one_comment(github, pr.number, lambda body: "not merged" in body)
    assert comment.body.startswith(COMMENT_MARKER)


async def test_a_failing_pull_request_gets_a_failure_check_run_and_one_comment_kept_current(
    app_server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(app_server)
    first = await github.push(REPO, "broken", {"check.py": FAILING_CHECK}, "Break it")
    pr = await github.open_pull_request(REPO, "broken", "main", "Break it", "outsider")

    failed = await finished(app_server, project_id, first)
    assert failed.status == ValidationStatus.FAILED
    runs = await concluded_runs(github, first)
    assert runs["codegenapp"].conclusion == "failure"
    assert "AssertionError: 2 != 3" in (runs["codegenapp"].output["summary"] or "")
    assert runs["codegenapp / test"].conclusion == "failure"
    assert runs["codegenapp / build"].conclusion == "success"
    comment = await one_comment(github, pr.number, lambda body: "Attempt 1 failed" in body)
    assert COMMENT_MARKER in comment.body
    assert "AssertionError: 2 != 3" in comment.body
    assert f"{PUBLIC}/projects/{project_id}" in comment.body

    second = await github.push(REPO, "broken", {"check.py": FAILING_CHECK + "# still\n"}, "Again")
    again = await finished(app_server, project_id, second)
    assert again.status == ValidationStatus.FAILED
    assert (await concluded_runs(github, second))["codegenapp"].conclusion == "failure"
    updated = await one_comment(github, pr.number, lambda body: "Attempt 2 failed" in body)
    assert updated.id == comment.id
    assert second[:12] in updated.body


async def test_a_token_reports_with_one_commit_status_and_never_tries_check_runs(
    token_server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(token_server)
    head = await github.push(REPO, "feature", {"check.py": PASSING_CHECK + "# t\n"}, "Token")
    await github.open_pull_request(REPO, "feature", "main", "Token", "outsider")

    validation = await finished(token_server, project_id, head)
    assert validation.status == ValidationStatus.PASSED, validation.reason
    statuses = github.statuses(REPO, head)
    assert [(s.context, s.state) for s in statuses] == [
        ("codegenapp", "pending"),
        ("codegenapp", "success"),
    ]
    assert github.check_runs(REPO) == []
    assert [r.path for r in github.requests if "check-runs" in r.path] == []
    assert [r for r in github.requests if r.status == 403] == []


async def test_status_updates_off_writes_nothing_on_github(
    app_server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(app_server, notifications={"github_status_updates": False})
    broken = await github.push(REPO, "broken", {"check.py": FAILING_CHECK}, "Break it")
    failing = await github.open_pull_request(REPO, "broken", "main", "Break it", "outsider")
    fine = await github.push(REPO, "fine", {"check.py": PASSING_CHECK + "# ok\n"}, "Fine")
    passing = await github.open_pull_request(REPO, "fine", "main", "Fine", "outsider")

    assert (await finished(app_server, project_id, broken)).status == ValidationStatus.FAILED
    assert (await finished(app_server, project_id, fine)).status == ValidationStatus.PASSED
    assert github.check_runs(REPO) == []
    assert github.statuses(REPO) == []
    assert github.comments(REPO, failing.number) == github.comments(REPO, passing.number) == []
    reports = ("check-runs", "statuses", "comments")
    assert [r.path for r in github.requests if any(word in r.path for word in reports)] == []


async def test_a_comment_copying_our_marker_is_never_taken_for_ours(
    app_server: Server, github: FakeGitHub
) -> None:
    project_id = await make_project(app_server)
    head = await github.push(REPO, "broken", {"check.py": FAILING_CHECK}, "Break it")
    pr = await github.open_pull_request(REPO, "broken", "main", "Break it", "outsider")
    spoof = f"{COMMENT_MARKER}\nAll checks passed, merge away."
    async with httpx.AsyncClient(
        base_url=github.api_url,
        headers={"Authorization": f"token {github.personal_token('outsider')}"},
    ) as outsider:
        posted = await outsider.post(
            f"/repos/{REPO}/issues/{pr.number}/comments", json={"body": spoof}
        )
    assert posted.status_code == 201, posted.text

    assert (await finished(app_server, project_id, head)).status == ValidationStatus.FAILED

    def ours_too() -> list[Comment] | None:
        comments = github.comments(REPO, pr.number)
        return comments if len(comments) == 2 and "Attempt 1 failed" in comments[1].body else None

    theirs, ours = await github.until(ours_too)
    assert theirs.body == spoof  # untouched
    assert ours.body.startswith(COMMENT_MARKER)


@pytest.fixture
async def one_worker_server(
    make_settings: SettingsFactory, github: FakeGitHub
) -> AsyncIterator[Server]:
    async for running in serve_on(
        make_settings,
        github,
        validation_concurrency=1,
        github_app_id=github.app_id,
        github_app_private_key=github.private_key_pem,
    ):
        yield running


async def test_a_queued_validation_shows_a_queued_check_run_until_it_is_stopped_in_the_queue(
    one_worker_server: Server, github: FakeGitHub
) -> None:
    project_id = await create_project(
        one_worker_server,
        deployment_settings={"build_command": "sleep 60"},  # holds the only worker
        validation_settings={"validate_base_branch": False},
    )
    busy = await github.push(REPO, "busy", {"n.txt": "1\n"}, "Busy")
    first = await github.open_pull_request(REPO, "busy", "main", "Busy", "outsider")
    await github.until(lambda: _run_in(github, busy, "in_progress"))
    waiting = await github.push(REPO, "waiting", {"n.txt": "2\n"}, "Waiting")
    second = await github.open_pull_request(REPO, "waiting", "main", "Waiting", "outsider")

    queued = await github.until(lambda: _run_in(github, waiting, "queued"))
    assert queued.output["title"] == "Attempt 1 queued"
    async with one_worker_server.runtime.database.read() as session:
        rows, _ = await validations.list_validations(session, project_id=project_id)
    assert {r.head_sha: r.status for r in rows}[waiting] == ValidationStatus.QUEUED
    for pr in (first, second):
        github.close_pull_request(REPO, pr.number)
    stopped = await github.until(lambda: _run_in(github, waiting, "completed"))
    assert stopped.conclusion == "cancelled"


def _run_in(github: FakeGitHub, sha: str, status: str) -> CheckRun | None:
    runs = [run for run in github.check_runs(REPO, sha) if run.name == "codegenapp"]
    return runs[0] if runs and runs[0].status == status else None
