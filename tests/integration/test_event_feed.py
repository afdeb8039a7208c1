"""The activity feed's read of /api/v1/events: the newest events first, on both databases."""

from pathlib import Path

import httpx
from tests.conftest import Server
from tests.support.projects import APP, make_repository, recipe_text


async def test_the_feed_reads_the_newest_events_first_and_catching_up_reads_the_oldest(
    server_on_both_databases: Server, tmp_path: Path
) -> None:
    server = server_on_both_databases
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as client:
        recipe = recipe_text([{"reply": "Nothing to do."}])
        for name in ("one", "two", "three"):
            body = {
                "name": name,
                "repository": str(make_repository(tmp_path / name, {"app.py": APP})),
                "agent": {"provider": "scripted", "recipe": recipe},
                # No base-branch validation: its events would come between the projects'.
                "validation_settings": {"validate_base_branch": False},
            }
            assert (await client.post("/api/v1/projects", json=body)).status_code == 201
        url = "/api/v1/events"
        newest = (await client.get(url, params={"order": "newest_first", "limit": 2})).json()
        oldest = (await client.get(url, params={"limit": 2})).json()
        after_first = (
            await client.get(url, params={"order": "newest_first", "since": oldest[0]["id"]})
        ).json()
        wrong = await client.get(url, params={"order": "sideways"})

    assert [event["data"]["name"] for event in newest] == ["three", "two"]
    assert [event["data"]["name"] for event in oldest] == ["one", "two"]
    assert [event["data"]["name"] for event in after_first] == ["three", "two"]
    assert newest[0]["id"] > newest[1]["id"]
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["query", "order"]
