"""Our Codegen API client against the fake Codegen over HTTP: runs progress to their result, the
pull requests the agent opens really exist on the fake GitHub, resumes push fixes, lists come in
pages, rate limits are waited out rather than failed, and each refusal is its own error with
Codegen's own words. The fake itself is held to the published document."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fakes.codegen import (
    BOT_LOGIN,
    Change,
    Failure,
    FakeCodegen,
    Limits,
    Reply,
    Script,
    Turn,
    Window,
)
from tests.fakes.github import FakeGitHub
from tests.fakes.github import git as github_git

from codegenapp.domain.codegen_status import CodegenPhase
from codegenapp.drivers.agent.codegen_api import Backoff, CodegenApi, CodegenRun, CodegenRunId
from codegenapp.drivers.agent.codegen_limits import Budget, RateLimits
from codegenapp.errors import (
    AgentAccessDenied,
    AgentAllowanceSpent,
    AgentConfigInvalid,
    AgentNotFound,
    AgentRefused,
    AgentRequestInvalid,
    AgentUnavailable,
)

REPO = "acme/app"
APP = "def add(a, b):\n    return a + b\n"
FAST = Backoff(attempts=4, initial=0.01, maximum=0.05, jitter=0.0, timeout=10.0)
DOCUMENT = Path(__file__).resolve().parents[1] / "fixtures/codegen-api/openapi3.json"


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": APP})
        yield fake


@pytest.fixture
async def codegen(tmp_path: Path, github: FakeGitHub) -> AsyncIterator[FakeCodegen]:
    async with FakeCodegen(tmp_path, github=github) as fake:
        fake.connect(REPO)
        yield fake


@pytest.fixture
async def api(codegen: FakeCodegen) -> AsyncIterator[CodegenApi]:
    async with CodegenApi(codegen.url, codegen.api_key, codegen.org_id, backoff=FAST) as client:
        yield client


async def settled(api: CodegenApi, codegen: FakeCodegen, run_id: CodegenRunId) -> list[CodegenRun]:
    """Every read of the run, once the agent is done, until one shows a final phase."""
    await codegen.turn_finished(run_id)
    reads = [await api.get_run(run_id)]
    while not reads[-1].phase.is_final:
        assert len(reads) < 10, [read.status for read in reads]
        reads.append(await api.get_run(run_id))
    return reads


# Runs, pull requests, resumes


async def test_the_key_owner_and_their_organizations_are_read(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    codegen.add_organization("acme-labs", members=["alice"])
    codegen.add_organization("someone-elses")

    me = await api.me()
    first = await api.organizations(limit=1)
    second = await api.organizations(skip=1, limit=1)

    assert me.github_username == "alice"
    assert (first.total, first.pages, first.page, first.size) == (2, 2, 1, 1)
    assert [o.name for o in first.items + second.items] == ["acme", "acme-labs"]
    assert second.page == 2


async def test_a_run_starts_pending_and_its_polls_progress_to_complete_with_the_reply(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    codegen.behaviour = Script(Reply("The function adds two numbers."))

    run = await api.create_run(
        "What does add do?", model="claude-sonnet", metadata={"request_id": "r-1", "attempt": 1}
    )
    reads = await settled(api, codegen, run.id)

    assert (run.status, run.phase, run.result) == ("PENDING", CodegenPhase.RUNNING, None)
    assert [read.status for read in reads] == ["RUNNING", "COMPLETE"]
    assert reads[-1].phase is CodegenPhase.SUCCEEDED
    assert reads[-1].result == "The function adds two numbers."
    assert reads[-1].web_url == f"https://codegen.com/agent/trace/{run.id}"
    assert reads[-1].metadata == {"request_id": "r-1", "attempt": 1}
    (created,) = codegen.requests_to("create_run")
    assert created.body == {
        "prompt": "What does add do?",
        "model": "claude-sonnet",
        "metadata": {"request_id": "r-1", "attempt": 1},
    }
    assert created.token == codegen.api_key


async def test_a_pull_request_the_agent_opens_is_reported_and_exists_on_github_with_its_commit(
    api: CodegenApi, codegen: FakeCodegen, github: FakeGitHub
) -> None:
    codegen.behaviour = Script(
        Change({"NOTES.md": "# Notes\n"}, "Add notes", title="Add notes", body="As asked.")
    )

    repo_id = codegen.repository_id(REPO)
    run = await api.create_run("Add a notes file", repo_id=repo_id)
    final = (await settled(api, codegen, run.id))[-1]

    assert final.phase is CodegenPhase.SUCCEEDED
    assert codegen.requests_to("create_run")[0].body == {
        "prompt": "Add a notes file",
        "repo_id": repo_id,
    }
    (reported,) = final.github_pull_requests
    assert reported.title == "Add notes"
    assert reported.url is not None
    assert final.result == f"I opened a pull request: {reported.url}"
    pr = github.pull_request(REPO, int(reported.url.rsplit("/", 1)[1]))
    assert (pr.head_ref, pr.base_ref, pr.body) == (reported.head_branch_name, "main", "As asked.")
    assert pr.user.login == BOT_LOGIN
    assert pr.head_sha == await github.branch_sha(REPO, pr.head_ref)
    git_dir = github.repository(REPO).git_dir
    commit = await github_git.describe(git_dir, pr.head_sha)
    assert (commit.message, commit.author.name, commit.added) == (
        "Add notes",
        BOT_LOGIN,
        ["NOTES.md"],
    )
    assert await github_git.output(git_dir, "show", f"{pr.head_sha}:NOTES.md") == "# Notes"


async def test_resuming_the_run_pushes_a_fix_commit_to_the_same_pull_request(
    api: CodegenApi, codegen: FakeCodegen, github: FakeGitHub
) -> None:
    def fix(turn: Turn) -> Change:
        assert turn.branch is not None, "the fix goes to the branch of the first change"
        assert "test_add fails" in turn.prompt
        return Change({"app.py": APP + "\n\ndef sub(a, b):\n    return a - b\n"}, "Fix sub")

    codegen.behaviour = Script(
        Change({"app.py": APP + "\n\ndef sub(a, b):\n    return a + b\n"}, "Add sub"), fix
    )
    run = await api.create_run("Add sub()")
    (opened,) = (await settled(api, codegen, run.id))[-1].github_pull_requests
    number = int(str(opened.url).rsplit("/", 1)[1])
    first_head = github.pull_request(REPO, number).head_sha

    resumed = await api.resume(run.id, "test_add fails: sub(3, 1) == 4; please fix")
    reads = await settled(api, codegen, run.id)

    assert resumed.status == "PENDING"
    assert [read.status for read in reads] == ["RUNNING", "COMPLETE"]
    assert reads[-1].github_pull_requests == (opened,)
    pr = github.pull_request(REPO, number)
    git_dir = github.repository(REPO).git_dir
    assert pr.head_sha != first_head
    assert await github_git.output(git_dir, "rev-parse", f"{pr.head_sha}^") == first_head
    assert "return a - b" in await github_git.output(git_dir, "show", f"{pr.head_sha}:app.py")
    assert reads[-1].result == f"I pushed {pr.head_sha[:7]} to {pr.head_ref}: {opened.url}"
    assert codegen.prompts(run.id) == ["Add sub()", "test_add fails: sub(3, 1) == 4; please fix"]
    (resume,) = codegen.requests_to("resume")
    assert resume.body == {"agent_run_id": run.id, "prompt": codegen.prompts(run.id)[1]}


async def test_runs_come_in_pages_newest_first(api: CodegenApi, codegen: FakeCodegen) -> None:
    created = [await api.create_run(f"task {n}") for n in range(3)]

    first = await api.runs(limit=2)
    second = await api.runs(skip=2, limit=2)

    assert [run.id for run in first.items + second.items] == [run.id for run in created[::-1]]
    assert (first.total, first.page, first.size, first.pages) == (3, 1, 2, 2)
    assert (len(second.items), second.page) == (1, 2)
    await codegen.idle()


async def test_logs_come_in_pages_oldest_first(api: CodegenApi, codegen: FakeCodegen) -> None:
    files: dict[str, str | None] = {"a.txt": "a\n", "b.txt": "b\n", "app.py": None}
    codegen.behaviour = Script(Change(files, "Shuffle files"))
    run = await api.create_run("Shuffle the files")
    await settled(api, codegen, run.id)

    first = await api.logs(run.id, limit=4)
    rest = await api.logs(run.id, skip=4, limit=4)

    entries = first.logs + rest.logs
    assert (first.total_logs, first.page, first.pages, rest.page) == (7, 1, 2, 2)
    assert [(e.message_type, e.tool_name) for e in entries] == [
        ("PLAN_EVALUATION", None),
        ("ACTION", "file_write"),
        ("ACTION", "file_write"),
        ("ACTION", "delete_file"),
        ("ACTION", "git_push"),
        ("ACTION", "create_pr"),
        ("FINAL_ANSWER", None),
    ]
    assert entries[3].tool_input == {"filepath": "app.py"}
    assert entries[-1].observation == first.result
    assert {e.agent_run_id for e in entries} == {run.id}
    assert first.phase is CodegenPhase.SUCCEEDED


async def test_an_undocumented_status_reads_as_running_and_lowercase_completed_as_success(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    codegen.behaviour = Script(
        Reply("Done.", status="completed"),
        Failure("I ran out of steps.", status="MAX_ITERATIONS_REACHED"),
    )
    run = await api.create_run("Odd statuses")
    codegen.show_statuses(run.id, "THINKING_DEEPLY")
    reads = await settled(api, codegen, run.id)
    failing = await api.create_run("Too long a task")
    failed = (await settled(api, codegen, failing.id))[-1]

    assert [(r.status, r.phase) for r in reads] == [
        ("THINKING_DEEPLY", CodegenPhase.RUNNING),
        ("RUNNING", CodegenPhase.RUNNING),
        ("completed", CodegenPhase.SUCCEEDED),
    ]
    assert (failed.status, failed.phase, failed.result) == (
        "MAX_ITERATIONS_REACHED",
        CodegenPhase.FAILED,
        "I ran out of steps.",
    )


async def test_banning_a_working_run_stops_it_before_it_changes_anything(
    api: CodegenApi, codegen: FakeCodegen, github: FakeGitHub
) -> None:
    release = asyncio.Event()

    async def hesitant(turn: Turn) -> Change:
        await release.wait()
        return Change({"LATE.md": "too late\n"}, "Too late")

    codegen.behaviour = hesitant
    run = await api.create_run("Take your time")

    await api.ban(run.id)
    stopped = await api.get_run(run.id)
    release.set()
    await codegen.idle()

    assert (stopped.status, stopped.phase) == ("STOPPED", CodegenPhase.STOPPED)
    assert (await api.get_run(run.id)).status == "STOPPED"
    assert await github_git.refs(github.repository(REPO).git_dir) == {
        "refs/heads/main": await github.branch_sha(REPO, "main")
    }
    (ban,) = codegen.requests_to("ban")
    assert (ban.status, ban.body) == (200, {"agent_run_id": run.id})


# Rate limits and retries


async def test_a_rate_limited_answer_is_waited_out_and_retried(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    run = await api.create_run("Anything")
    codegen.force_next(429, operation="get_run")

    read = await api.get_run(run.id)

    assert read.id == run.id
    assert [r.status for r in codegen.requests_to("get_run")] == [429, 200]
    await codegen.idle()


async def test_server_errors_are_retried_and_a_lasting_outage_raises_unavailable(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    codegen.force_next(503, operation="create_run", n=2)
    run = await api.create_run("Through a flaky proxy")
    codegen.force_next(500, operation="get_run", n=FAST.attempts)

    with pytest.raises(AgentUnavailable) as raised:
        await api.get_run(run.id)

    assert [r.status for r in codegen.requests_to("create_run")] == [503, 503, 200]
    assert [r.status for r in codegen.requests_to("get_run")] == [500] * FAST.attempts
    assert raised.value.status == 500
    assert f"reading Codegen agent run {run.id}" in str(raised.value)
    assert "Internal Server Error" in str(raised.value)
    await codegen.idle()


async def test_eleven_creations_in_one_window_are_queued_by_the_shared_limiter_not_refused(
    tmp_path: Path, github: FakeGitHub
) -> None:
    window = 1.5
    async with FakeCodegen(
        tmp_path, github=github, limits=Limits(creations=Window(10, window))
    ) as codegen:
        codegen.connect(REPO)
        limits = RateLimits(creations=Budget(10, window))
        key, org = codegen.api_key, codegen.org_id
        async with (
            CodegenApi(codegen.url, key, org, limits=limits, backoff=FAST) as one,
            CodegenApi(codegen.url, key, org, limits=limits, backoff=FAST) as other,
        ):
            runs = await asyncio.gather(
                *(one.create_run(f"task {n}") for n in range(6)),
                *(other.create_run(f"task {n}") for n in range(6, 11)),
            )
        await codegen.idle()

    assert len({run.id for run in runs}) == 11
    creations = codegen.requests_to("create_run")
    assert [r.status for r in creations] == [200] * 11, "the limiter let one through too early"
    assert creations[10].at - creations[0].at >= window


async def test_the_fake_refuses_an_eleventh_creation_in_a_minute_as_codegen_does(
    codegen: FakeCodegen,
) -> None:
    headers = {"Authorization": f"Bearer {codegen.api_key}"}
    path = f"/v1/organizations/{codegen.org_id}/agent/run"
    async with httpx.AsyncClient(base_url=codegen.url, headers=headers) as raw:
        answers = [await raw.post(path, json={"prompt": f"task {n}"}) for n in range(11)]
    await codegen.idle()

    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert answers[10].json() == {
        "message": "Rate limit exceeded. Please try again later.",
        "status_code": 429,
    }
    assert "retry-after" not in answers[10].headers


async def test_a_second_client_cannot_change_the_limits_an_organization_already_has(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    with pytest.raises(AgentConfigInvalid, match="rate_limits"):
        CodegenApi(
            codegen.url, codegen.api_key, codegen.org_id, limits=RateLimits(logs=Budget(1, 1))
        )


# Refusals


async def test_a_spent_run_allowance_raises_allowance_spent_with_codegens_reason(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    codegen.set_run_allowance(1)
    await api.create_run("The last one the plan allows")

    with pytest.raises(AgentAllowanceSpent) as raised:
        await api.create_run("One too many")

    assert raised.value.status == 402
    assert str(raised.value) == (
        "starting a Codegen agent run: the Codegen plan's allowance of agent runs is spent: "
        "Alloted agent runs for the current billing plan have been reached. Please upgrade your "
        "plan to continue. (HTTP 402)"
    )
    await codegen.idle()


async def test_a_key_codegen_does_not_know_or_outside_the_organization_raises_access_denied(
    codegen: FakeCodegen,
) -> None:
    stranger = codegen.add_user("mallory")
    async with (
        CodegenApi(codegen.url, "sk-not-a-key", codegen.org_id, backoff=FAST) as unknown,
        CodegenApi(codegen.url, stranger, codegen.org_id, backoff=FAST) as outsider,
    ):
        with pytest.raises(AgentAccessDenied) as unauthenticated:
            await unknown.me()
        with pytest.raises(AgentAccessDenied) as forbidden:
            await outsider.create_run("Not my organization")
        assert (await outsider.me()).github_username == "mallory"

    assert unauthenticated.value.status == 401
    assert "Invalid or missing API token" in str(unauthenticated.value)
    assert forbidden.value.status == 403
    assert str(forbidden.value) == (
        f"starting a Codegen agent run: the API key has no access to organization "
        f"{codegen.org_id}: You do not have access to this organization. (HTTP 403)"
    )
    assert codegen.state.runs == {}


async def test_an_unknown_run_raises_not_found_with_codegens_reason(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    with pytest.raises(AgentNotFound, match=r"Agent run not found\. \(HTTP 404\)") as raised:
        await api.get_run(CodegenRunId(1))
    with pytest.raises(AgentNotFound):
        await api.resume(CodegenRunId(1), "Anyone there?")

    assert raised.value.status == 404
    assert str(raised.value).startswith("reading Codegen agent run 1: ")


async def test_a_value_codegen_rejects_raises_request_invalid_naming_the_field(
    api: CodegenApi, codegen: FakeCodegen
) -> None:
    run = await api.create_run("Anything")

    with pytest.raises(AgentRequestInvalid) as raised:
        await api.logs(run.id, limit=500)

    assert raised.value.status == 422
    assert "query.limit: Input should be less than or equal to 100" in str(raised.value)
    await codegen.idle()


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (402, AgentAllowanceSpent, "Alloted agent runs for the current billing plan"),
        (403, AgentAccessDenied, "You do not have access to this organization."),
        (404, AgentNotFound, "No repos found in the organization."),
        (422, AgentRequestInvalid, "body: Value error, refused by the test's forced answer"),
    ],
)
async def test_each_refusal_codegen_documents_for_creating_a_run_raises_its_own_error(
    api: CodegenApi,
    codegen: FakeCodegen,
    status: int,
    error: type[AgentRefused],
    words: str,
) -> None:
    codegen.force_next(status, operation="create_run")

    with pytest.raises(error) as raised:
        await api.create_run("Refused")

    assert raised.value.status == status
    assert words in str(raised.value)
    assert [r.status for r in codegen.requests_to("create_run")] == [status]


# The fake against the published document


async def test_the_fake_serves_the_documented_operations_with_their_parameters_and_bodies(
    codegen: FakeCodegen,
) -> None:
    assert DOCUMENT.is_file(), f"the published Codegen document is expected at {DOCUMENT}"
    published = json.loads(DOCUMENT.read_text())
    async with httpx.AsyncClient(base_url=codegen.url) as raw:
        served = (await raw.get("/openapi.json")).json()

    def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        paths = document["paths"]
        return {
            (method.upper(), path): operation
            for path, item in paths.items()
            for method, operation in item.items()
        }

    def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], object]:
        found = operation.get("parameters", [])
        return {
            (p["name"], p["in"]): (
                p.get("required", False),
                {k: v for k, v in p["schema"].items() if k in ("minimum", "maximum", "default")},
            )
            for p in found
        }

    def body(document: dict[str, Any], operation: dict[str, Any]) -> object:
        if "requestBody" not in operation:
            return None
        content = operation["requestBody"]["content"]["application/json"]
        name = content["schema"]["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
        return name, sorted(schema["properties"]), sorted(schema.get("required", []))

    mine, theirs = operations(served), operations(published)
    assert len(mine) == 8
    for key, operation in mine.items():
        assert key in theirs, f"{key} is not in the published document"
        assert parameters(operation) == parameters(theirs[key]), key
        assert body(served, operation) == body(published, theirs[key]), key


async def test_the_fake_fails_the_test_when_something_expected_is_left_over(
    tmp_path: Path,
) -> None:
    def broken(turn: Turn) -> Reply:
        raise RuntimeError("the behaviour broke")

    seen: list[CodegenRun] = []

    async def break_a_run() -> None:
        async with FakeCodegen(tmp_path, behaviour=broken) as codegen:
            codegen.connect(REPO)
            async with CodegenApi(codegen.url, codegen.api_key, codegen.org_id) as api:
                run = await api.create_run("Break")
                seen.extend(await settled(api, codegen, run.id))

    with pytest.raises(AssertionError, match="forced 429 for get_run"):
        async with FakeCodegen(tmp_path) as codegen:
            codegen.force_next(429, operation="get_run")
    with pytest.raises(AssertionError, match="script step never asked"):
        async with FakeCodegen(tmp_path, behaviour=Script(Reply("Never asked for."))):
            pass
    with pytest.raises(AssertionError, match="the behaviour broke"):
        await break_a_run()
    assert (seen[-1].status, seen[-1].phase) == ("ERROR", CodegenPhase.FAILED)
    assert seen[-1].result == "The agent failed: the behaviour broke"
