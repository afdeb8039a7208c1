"""The dashboard in a real headless Chromium against the real back end and the scripted agent:
a person signs in, creates a project, starts a run, confirms the plan and watches a failing
then passing validation end in a merge, without ever reloading the page."""

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from tests.conftest import TEST_TOKEN, Server, SettingsFactory, free_port, serve
from tests.e2e.dashboard_support import PHONE, ConsoleWatch, flaky_health_project, screenshot
from tests.support.sandboxes import ON_DOCKER

# In the Docker tests' worker: Chromium aborts requests when Docker changes host interfaces.
pytestmark = [pytest.mark.slow, ON_DOCKER]

GOAL = "Add a /health endpoint"


async def _sign_in_with_the_keyboard(page: Page, server: Server) -> None:
    await page.goto(server.url)
    await expect(page.get_by_role("heading", name="Sign in to CodegenApp")).to_be_visible()
    await screenshot(page, "sign-in")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Access token")).to_be_focused()
    await page.keyboard.type(TEST_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def _create_project(page: Page, *, name: str, repository: Path, recipe: str) -> None:
    await page.get_by_role("link", name="New project").click()
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Repository", exact=True).fill(str(repository))
    await page.get_by_label("Recipe").fill(recipe)
    await page.get_by_label("Deploy command").fill("python3 app.py")
    await page.get_by_label("Health check URL").fill("/health")
    await page.get_by_label("Port").fill(str(free_port()))
    await page.get_by_role("checkbox", name="Health check passes").check()
    await page.get_by_label("Max retries").fill("2")
    await page.get_by_role("button", name="Create project").click()
    await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


async def test_a_person_follows_a_goal_from_plan_through_a_failed_validation_to_the_merge(
    page: Page, server: Server, tmp_path: Path
) -> None:
    project = flaky_health_project(tmp_path)
    await _sign_in_with_the_keyboard(page, server)
    # Anything that reloads the page loses this mark: every change below must arrive live.
    await page.evaluate("window.__stillTheSamePage = true")

    await _create_project(page, name="shop", repository=project.repository, recipe=project.recipe)
    await expect(page.get_by_role("combobox", name="Project")).to_have_value(
        str(await _project_id(server, "shop"))
    )

    await page.get_by_label("Goal").fill(GOAL)
    await page.get_by_role("button", name="Start run").click()
    run = page.get_by_role("region", name="Run 1")
    await expect(run.get_by_text("Waiting for you", exact=True)).to_be_visible()
    await expect(run.get_by_text("Scripted agent (not AI)")).to_be_visible()
    await expect(run.get_by_role("region", name="Plan")).to_contain_text("Answer GET /health.")
    await screenshot(page, "plan-waiting")
    await run.get_by_role("button", name="Confirm plan").click()

    attempts = page.get_by_role("group", name="Validation attempts")
    first, second = (
        attempts.get_by_role("button", name="Attempt 1"),
        attempts.get_by_role("button", name="Attempt 2"),
    )
    await expect(first).to_contain_text("Failed")
    await expect(second).to_contain_text("Passed")
    steps = page.get_by_role("list", name="Validation steps")
    await expect(steps.get_by_role("listitem")).to_have_count(6)
    await expect(steps.get_by_role("listitem").filter(has_text="Health check")).to_contain_text(
        "Passed"
    )
    await expect(page.get_by_text("Merged", exact=True).first).to_be_visible()
    await expect(run.get_by_text("Completed", exact=True)).to_be_visible()
    await screenshot(page, "run-merged")

    await first.click()
    health = steps.get_by_role("listitem").filter(has_text="Health check")
    await expect(health).to_contain_text("Failed")
    await expect(page.get_by_text("Error context sent back to the agent")).to_be_visible()
    await page.get_by_text("Error context sent back to the agent").click()
    await expect(page.get_by_text("KeyError: 'APP_PORT'").first).to_be_visible()
    await expect(page.get_by_role("region", name="Log of Health check")).to_be_visible()
    await screenshot(page, "validation-failed-attempt")

    await page.get_by_role("combobox", name="Project").select_option("")
    card = page.get_by_role("article", name="Project shop")
    await expect(card).to_contain_text("Completed")
    await expect(card).to_contain_text("50% of 2 validations passed")
    feed = page.get_by_role("region", name="Activity")
    # Not necessarily the newest line: the merge moved the base, whose validation follows.
    await expect(feed.get_by_role("listitem").filter(has_text="Run 1 completed")).to_be_visible()
    await expect(card).to_contain_text("Base branch")
    await screenshot(page, "overview")

    await page.set_viewport_size(PHONE)
    await card.get_by_role("link", name="shop").click()
    await expect(page.get_by_role("button", name="Start run")).to_be_visible()
    await expect(page.get_by_role("combobox", name="Project")).to_be_visible()
    await screenshot(page, "project-phone")
    assert await page.evaluate("window.__stillTheSamePage") is True


async def test_a_bad_project_setting_is_shown_next_to_its_field(
    page: Page, server: Server, console: ConsoleWatch, tmp_path: Path
) -> None:
    project = flaky_health_project(tmp_path)
    console.expect(422)  # the refusal this test provokes; Chromium logs the failed request
    await page.goto(f"{server.url}/?token={TEST_TOKEN}")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "token" not in page.url

    await page.get_by_role("link", name="New project").click()
    await page.get_by_label("Name", exact=True).fill("shop")
    await page.get_by_label("Repository", exact=True).fill(str(project.repository))
    await page.get_by_label("Recipe").fill(str(project.recipe))
    await page.get_by_label("Health check URL").fill("health")
    await page.get_by_label("Max retries").fill("50")
    await page.get_by_role("button", name="Create project").click()

    retries = page.get_by_label("Max retries")
    await expect(retries).to_have_attribute("aria-invalid", "true")
    await expect(retries).to_have_accessible_description("Input should be less than or equal to 20")
    await expect(page.get_by_label("Health check URL")).to_have_accessible_description(
        re.compile(r"^Must be a path on the deployed app, starting with '/' \(or empty\)")
    )
    await expect(page.get_by_role("alert")).to_contain_text("2 values need a change")
    await screenshot(page, "project-form-errors")
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        assert (await client.get("/api/v1/projects")).json()["total"] == 0

    await retries.fill("2")
    await page.get_by_label("Health check URL").fill("/health")
    await page.get_by_role("button", name="Create project").click()
    await expect(page.get_by_role("heading", name="shop", level=1)).to_be_visible()

    # A project added elsewhere (the CLI, another tab) shows up without a reload.
    await page.get_by_role("link", name="CodegenApp").click()
    await expect(page.get_by_role("article", name="Project shop")).to_be_visible()
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        body = {
            "name": "blog",
            "repository": str(project.repository),
            "agent": {"provider": "scripted", "recipe": str(project.recipe)},
        }
        assert (await client.post("/api/v1/projects", json=body)).status_code == 201
    await expect(page.get_by_role("article", name="Project blog")).to_be_visible()
    feed = page.get_by_role("region", name="Activity")
    await expect(feed).to_contain_text("Project blog created")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Access token")).to_be_visible()


async def _project_id(server: Server, name: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        projects = (await client.get("/api/v1/projects")).json()["items"]
    return next(int(project["id"]) for project in projects if project["name"] == name)


async def test_the_api_docs_render_under_the_strict_content_security_policy(
    page: Page, make_settings: SettingsFactory
) -> None:
    async for docs_server in serve(make_settings(api_docs=True)):
        await page.goto(f"{docs_server.url}/docs?token={TEST_TOKEN}")
        operation = page.get_by_text("/api/v1/projects/{project_id}/secrets").first
        await expect(operation).to_be_visible()
        assert "token" not in page.url  # taken out of the address bar
        # The page fixture fails the test on any console error, CSP violations included.
