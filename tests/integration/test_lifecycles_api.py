"""The life cycles seen through the API, as a new user meets them: a run that a retry by hand
fixed ends completed, a refused merge can be asked for again, a validation that stopped early
shows the checks it never ran, a pending run does not claim to know its agent, and a move the
life cycle forbids is a 409 that names both states. A real server, on SQLite and PostgreSQL."""

from pathlib import Path

import httpx
from tests.conftest import Server
from tests.support.projects import APP, git, make_repository, merges_on, recipe_text
from tests.support.waiting import run_in, run_settled

from codegenapp.db.queries import agent_runs
from codegenapp.domain.states import AgentRunStatus

PASSING_CHECK = "print('checks pass')\n"
FAILING_CHECK = "import sys\nprint('AssertionError: 2 != 3')\nsys.exit(1)\n"
BUILD_AND_TEST = {
    "deployment_settings": {"build_command": "python3 -m py_compile app.py"},
    "validation_settings": {
        "required_checks": ["build", "test"],
        "test_command": "python3 check.py",
        "max_retries": 0,
    },
}


async def _project(
    client: httpx.AsyncClient,
    repo: Path,
    turns: list[dict[str, object]],
    settings: dict[str, object],
) -> int:
    body = {
        "name": "shop",
        "repository": str(repo),
        "agent": {"provider": "scripted", "recipe": recipe_text(turns)},
        **settings,
    }
    created = await client.post("/api/v1/projects", json=body)
    assert created.status_code == 201, created.text
    project_id: int = created.json()["id"]
    return project_id


async def _start(client: httpx.AsyncClient, project_id: int, goal: str) -> int:
    created = await client.post("/api/v1/agent-runs", json={"project_id": project_id, "goal": goal})
    assert created.status_code == 201, created.text
    run_id: int = created.json()["id"]
    return run_id


def _push_to(repo: Path, branch: str, files: dict[str, str]) -> None:
    """A person's commit on the pull request's branch, made beside the checked-out main."""
    worktree = repo.with_name(f"{repo.name}-{branch.replace('/', '-')}")
    git(repo, "worktree", "add", "-q", str(worktree), branch)
    for name, content in files.items():
        (worktree / name).write_text(content)
    git(worktree, "commit", "-q", "-am", "Fix the check by hand")


async def test_a_failed_run_completes_when_a_retry_by_hand_passes_and_merges(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP, "check.py": PASSING_CHECK})
    project_id = await _project(
        client, repo, [{"files": {"check.py": FAILING_CHECK}}], BUILD_AND_TEST
    )
    run_id = await _start(client, project_id, "Change the answer")
    await run_settled(server_.runtime, run_id)
    failed = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert failed["status"] == "failed", failed
    assert failed["result"].startswith("Needs a human")

    _push_to(repo, failed["pull_request"]["branch"], {"check.py": PASSING_CHECK})
    [first] = failed["validations"]
    retry = await client.post(f"/api/v1/validations/{first}/retry")
    assert retry.status_code == 202, retry.text
    assert retry.json()["attempt"] == 2
    await run_in(server_.runtime, run_id, AgentRunStatus.COMPLETED)

    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert run["status"] == "completed"
    assert run["result"].startswith("Merged pull request #1 at ")
    assert "after a retry by hand (validation attempt 2 passed)" in run["result"]
    assert run["pull_request"]["merged"] is True
    assert merges_on(repo) == [run["pull_request"]["merge_sha"]]
    second = (await client.get(f"/api/v1/validations/{retry.json()['id']}")).json()
    assert (second["status"], second["merged"]) == ("passed", True)


async def test_a_refused_merge_is_merged_on_a_persons_request_and_the_run_says_so(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    project_id = await _project(
        client,
        repo,
        [{"files": {"NOTES.md": "notes\n"}}],
        {
            "deployment_settings": {"build_command": "test -f NOTES.md"},
            "validation_settings": {"required_checks": ["build"]},
        },
    )
    (repo / "app.py").write_text(APP + "# someone's local edit\n")  # main's work tree is dirty
    run_id = await _start(client, project_id, "Add notes")
    await run_settled(server_.runtime, run_id)
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert run["status"] == "completed", run
    assert "not merged: merge refused" in run["result"]
    [validation_id] = run["validations"]

    refused = await client.post(f"/api/v1/validations/{validation_id}/merge")
    assert refused.status_code == 409
    assert "was not merged" in refused.json()["detail"]
    assert "local changes" in refused.json()["detail"]

    git(repo, "checkout", "--", "app.py")
    merged = await client.post(f"/api/v1/validations/{validation_id}/merge")
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["merged"], body["merge_blocked_reason"]) == (True, None)
    assert merges_on(repo) == [body["merge_sha"]]
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert run["status"] == "completed"
    assert "after a person's merge request" in run["result"]
    assert run["pull_request"]["merged"] is True

    again = await client.post(f"/api/v1/validations/{validation_id}/merge")
    assert again.status_code == 409
    assert "already merged" in again.json()["detail"]


async def test_only_a_passed_validation_of_the_current_head_is_merged_by_request(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP, "check.py": PASSING_CHECK})
    project_id = await _project(
        client, repo, [{"files": {"check.py": FAILING_CHECK}}], BUILD_AND_TEST
    )
    run_id = await _start(client, project_id, "Change the answer")
    await run_settled(server_.runtime, run_id)
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    [validation_id] = run["validations"]

    refused = await client.post(f"/api/v1/validations/{validation_id}/merge")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"validation {validation_id} is failed; only a passed one is merged"
    )
    assert merges_on(repo) == []
    assert (await client.post("/api/v1/validations/999/merge")).status_code == 404


async def test_a_validation_that_could_not_run_shows_the_checks_it_never_ran(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    # The project's own setup is broken, on the base branch too: the validation ends as an
    # error (the setup's fault) after the build, before any other check ran.
    broken = {
        "deployment_settings": {
            "build_command": "python3 -c 'import flask_that_is_not_installed'",
            "health_check_url": "/health",
            "deploy_command": "python3 app.py",
        },
        "validation_settings": {"required_checks": ["build", "test"]},
    }
    project_id = await _project(client, repo, [{"files": {"README": "hello\n"}}], broken)
    run_id = await _start(client, project_id, "Add a README")
    await run_settled(server_.runtime, run_id)
    [validation_id] = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()["validations"]

    validation = (await client.get(f"/api/v1/validations/{validation_id}")).json()
    assert (validation["status"], validation["fault"]) == ("error", "setup")
    assert validation["checks"] == {
        "build": "failed",
        "test": "skipped",
        "security": "skipped",
        "deploy": "skipped",
        "health": "skipped",
        "web_eval": "skipped",
    }
    steps = {step["name"]: step for step in validation["steps"]}
    for name in ("health_check", "web_eval"):
        assert steps[name]["status"] == "skipped"
        assert steps[name]["summary"].startswith("not run: "), steps[name]


async def test_a_pending_run_does_not_claim_to_know_whether_its_agent_is_an_ai(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    project_id = await _project(client, repo, [{"reply": "Nothing to do."}], {})
    # A run whose workflow has not started yet: its row, as `start_run` writes it first.
    async with server_.runtime.database.transaction() as session:
        pending = await agent_runs.create_run(session, project_id=project_id, goal="Wait")
    shown = (await client.get(f"/api/v1/agent-runs/{pending.id}")).json()
    assert shown["status"] == "pending"
    assert shown["agent"] == {"driver": None, "job_id": None, "is_ai": None}

    run_id = await _start(client, project_id, "Say something")
    await run_settled(server_.runtime, run_id)
    run = (await client.get(f"/api/v1/agent-runs/{run_id}")).json()
    assert (run["agent"]["driver"], run["agent"]["is_ai"]) == ("scripted", False)


async def test_a_move_the_life_cycle_forbids_is_a_409_naming_both_states(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    project_id = await _project(client, repo, [{"plan": "1. Think"}], {})
    run_id = await _start(client, project_id, "Think first")
    await run_in(server_.runtime, run_id, AgentRunStatus.WAITING_INPUT)
    cancelled = await client.post(f"/api/v1/agent-runs/{run_id}/cancel")
    assert cancelled.status_code == 202

    again = await client.post(f"/api/v1/agent-runs/{run_id}/continue", json={"message": "Go"})
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"agent run {run_id} cannot go cancelled → pending by continue; "
        "from cancelled it may go: nothing: it is final"
    )
