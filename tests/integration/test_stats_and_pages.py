"""A project's stats for its card and charts, and the pages that serve the dashboard."""

from pathlib import Path

import httpx
from fastapi import FastAPI
from tests.conftest import Server
from tests.support.projects import APP, make_repository, recipe_text
from tests.support.waiting import run_settled

from codegenapp.api.ui import mount_dashboard
from codegenapp.domain.states import AgentRunStatus
from codegenapp.flows import actions


async def test_stats_count_validations_and_attempts_per_merged_pull_request(
    server: Server, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP, "ok.sh": "exit 0\n"})
    recipe = recipe_text(
        [{"files": {"ok.sh": "exit 1\n"}}, {"files": {"ok.sh": "exit 0\n"}}],
    )
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        project = (
            await client.post(
                "/api/v1/projects",
                json={
                    "name": "stats",
                    "repository": str(repo),
                    "agent": {"recipe": recipe},
                    "deployment_settings": {"build_command": "sh ok.sh"},
                },
            )
        ).json()
        empty = (await client.get(f"/api/v1/projects/{project['id']}/stats")).json()
        assert empty["last_run"] is None
        assert empty["pass_rate"] is None

        run = await actions.start_run(project_id=project["id"], goal="Flip it")
        assert (await run_settled(server.runtime, run.id)).status == AgentRunStatus.COMPLETED
        stats = (await client.get(f"/api/v1/projects/{project['id']}/stats")).json()
        missing = await client.get("/api/v1/projects/999/stats")

    assert stats["last_run"]["status"] == "completed"
    assert stats["last_validation"]["status"] == "passed"
    assert (
        stats["validations_total"],
        stats["validations_passed"],
        stats["validations_failed"],
    ) == (2, 1, 1)
    assert stats["pass_rate"] == 0.5
    assert [point["status"] for point in stats["history"]] == ["failed", "passed"]
    assert all(point["duration_s"] > 0 for point in stats["history"])
    assert stats["attempts_per_merged_pr"] == [{"pr_number": 1, "attempts": 2}]
    assert missing.status_code == 404


async def test_page_paths_get_the_dashboard_and_api_paths_do_not(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=root></div>")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    app = FastAPI()
    mount_dashboard(app, dist)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        page = await client.get("/projects/3")
        asset = await client.get("/assets/app-1234.js")
        icon = await client.get("/favicon.svg")
        api = await client.get("/api/v1/nothing")
        escape = await client.get("/assets/../../secret")
    assert page.text == "<div id=root></div>"
    assert page.headers["cache-control"] == "no-cache"
    assert "immutable" in asset.headers["cache-control"]
    assert icon.text == "<svg/>"
    assert api.status_code == 404
    assert escape.status_code in (404, 200)
    assert "secret" not in escape.text


async def test_without_a_build_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    mount_dashboard(app, tmp_path / "missing")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        page = await client.get("/")
    assert page.status_code == 503
    assert "make setup" in page.text
