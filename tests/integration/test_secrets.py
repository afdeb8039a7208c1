"""Project secrets through the real API, on SQLite and PostgreSQL: write-only, sealed at rest,
given to the project's commands, and found nowhere else, in any spelling."""

import asyncio
import base64
import logging
import os
import stat
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest
from psycopg import sql
from tests.conftest import Server
from tests.support.projects import APP, make_repository, recipe_text
from tests.support.waiting import run_settled

CANARY = "c4n4ry/V@lue+with=odd&chars-0123456789"
SPELLINGS = {
    "raw": CANARY,
    "base64": base64.b64encode(CANARY.encode()).decode(),
    "hex": CANARY.encode().hex(),
    "url": quote(CANARY, safe=""),
}
# Printed by the project's own build, in every spelling, while the test looks at the process
# list; then the build fails, so that its log goes into an error context too.
BUILD = (
    "printf 'raw %s\\n' \"$CANARY\"; "
    "printf '%s' \"$CANARY\" | base64; "
    "printf '%s' \"$CANARY\" | od -An -tx1 | tr -d ' \\n'; echo; "
    'python3 -c "import os, urllib.parse; '
    "print(urllib.parse.quote(os.environ['CANARY'], safe=''))\"; "
    "echo canary-printed; sleep 2; exit 3"
)


async def _project(client: httpx.AsyncClient, tmp_path: Path, **extra: object) -> int:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    body = {
        "name": "vault",
        "repository": str(repo),
        "agent": {"recipe": recipe_text([{"files": {"NOTES.md": "hi\n"}}])},
        **extra,
    }
    response = await client.post("/api/v1/projects", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_secret_is_write_only_listed_by_name_replaced_and_deleted(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    project = await _project(client, tmp_path)
    url = f"/api/v1/projects/{project}/secrets"

    created = await client.post(url, json={"name": "DEPLOY_KEY", "value": "first-value"})
    replaced = await client.post(url, json={"name": "DEPLOY_KEY", "value": "second-value"})
    listed = await client.get(url)

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert set(created.json()) == {"name", "created_at", "updated_at"}
    assert listed.json()["total"] == 1
    assert [item["name"] for item in listed.json()["items"]] == ["DEPLOY_KEY"]
    for answer in (created, replaced, listed, await client.get(f"/api/v1/projects/{project}")):
        assert "first-value" not in answer.text
        assert "second-value" not in answer.text
    events = (await client.get("/api/v1/events", params={"project_id": project})).json()
    secret_events = [e for e in events if e["type"].startswith("project_secret")]
    assert [e["data"] for e in secret_events] == [
        {"name": "DEPLOY_KEY", "created": True},
        {"name": "DEPLOY_KEY", "created": False},
    ]

    assert (await client.delete(f"{url}/DEPLOY_KEY")).status_code == 204
    assert (await client.delete(f"{url}/DEPLOY_KEY")).status_code == 404
    assert (await client.get(url)).json()["total"] == 0
    assert (await client.get("/api/v1/projects/999/secrets")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"name": "PATH", "value": "abcdef"}, "name", "set by the sandbox"),
        ({"name": "1X", "value": "abcdef"}, "name", "not a valid variable name"),
        ({"name": "SHORT", "value": "abc"}, "value", "at least 4 characters"),
        ({"name": "PLAIN", "value": "abcdef"}, "name", "plain environment variable"),
        ({"name": "NUL", "value": "ab\x00cd"}, "value", "NUL"),
        ({"name": "K", "value": "x" * 20000}, "value", "at most"),
    ],
)
async def test_a_bad_secret_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tmp_path: Path, body: dict[str, str], field: str, words: str
) -> None:
    project = await _project(
        client, tmp_path, deployment_settings={"environment_variables": {"PLAIN": "p"}}
    )
    response = await client.post(f"/api/v1/projects/{project}/secrets", json=body)
    assert response.status_code == 422, response.text
    errors = {e["loc"][-1]: e["msg"] for e in response.json()["errors"]}
    assert words in errors[field]
    assert (await client.get(f"/api/v1/projects/{project}/secrets")).json()["total"] == 0


async def _processes_while_it_builds(client: httpx.AsyncClient, validation_id: int) -> list[str]:
    """Every command line on the machine, read while the build is running in its sandbox."""
    for _ in range(1000):
        log = await client.get(f"/api/v1/validations/{validation_id}/steps/deploy/log")
        if "canary-printed" in log.text:
            break
        await asyncio.sleep(0.01)  # a real process, watched from outside: nothing to await
    else:
        raise AssertionError("the build never printed its marker")
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            lines.append(
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except OSError:
            continue
    return lines


async def _database_text(server: Server) -> str:
    """Everything the database holds, as text: the SQLite files byte for byte, or every row of
    every table of ours and of DBOS on PostgreSQL."""
    url = server.settings.database_url
    if url is None:
        files = sorted(server.settings.home.glob("*.sqlite*"))
        assert files, "no database files found"
        return "".join(path.read_bytes().decode("latin-1") for path in files)
    dump = []
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert len(tables) > 5
        for schema, table in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            dump += [row for (row,) in connection.execute(query)]
    return "\n".join(dump)


async def test_a_canary_secret_reaches_the_build_and_nothing_else_in_any_spelling(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    project = await _project(
        client,
        tmp_path,
        deployment_settings={"build_command": BUILD},
        # The build fails on purpose; its base would fail the same way and make it a setup
        # fault: without a baseline, the failure goes to an error context, which is checked.
        validation_settings={"max_retries": 0, "validate_base_branch": False},
    )
    answers = []
    secret = await client.post(
        f"/api/v1/projects/{project}/secrets", json={"name": "CANARY", "value": CANARY}
    )
    assert secret.status_code == 201, secret.text
    run = (
        await client.post("/api/v1/agent-runs", json={"project_id": project, "goal": "Go"})
    ).json()
    for _ in range(1000):
        listed = (
            await client.get("/api/v1/validations", params={"agent_run_id": run["id"]})
        ).json()
        if listed["items"]:
            break
        await asyncio.sleep(0.01)
    validation_id = listed["items"][0]["id"]
    command_lines = await _processes_while_it_builds(client, validation_id)
    await run_settled(server_.runtime, run["id"])

    validation = await client.get(f"/api/v1/validations/{validation_id}")
    logs = [
        await client.get(f"/api/v1/validations/{validation_id}/steps/{step['name']}/log")
        for step in validation.json()["steps"]
    ]
    answers += [
        validation,
        *logs,
        await client.get(f"/api/v1/agent-runs/{run['id']}"),
        await client.get("/api/v1/events", params={"limit": 1000}),
        await client.get(f"/api/v1/projects/{project}"),
        await client.get(f"/api/v1/projects/{project}/secrets"),
    ]
    deploy_log = logs[[s["name"] for s in validation.json()["steps"]].index("deploy")].text
    error_context = validation.json()["error_context"]

    # It reached the build: four masked lines where the build printed it, and the failure.
    assert deploy_log.count("***") >= 4, deploy_log
    assert "raw ***" in deploy_log
    assert validation.json()["status"] == "failed"
    assert "***" in error_context
    assert any("canary-printed" in line for line in command_lines), "the build was not seen"
    database = await _database_text(server_)
    for name, spelling in SPELLINGS.items():
        for where, text in (
            ("an API answer", "\n".join(answer.text for answer in answers)),
            ("the error context", error_context),
            ("the server log", caplog.text),
            ("a command line", "\n".join(command_lines)),
            ("the database", database),
        ):
            assert spelling not in text, f"the {name} spelling of the secret is in {where}"


async def test_the_home_is_private_and_so_is_every_file_of_ours_in_it(
    client: httpx.AsyncClient, server_: Server, tmp_path: Path
) -> None:
    project = await _project(client, tmp_path)
    await client.post(f"/api/v1/projects/{project}/secrets", json={"name": "K", "value": "vvvv"})
    home = server_.settings.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for directory in (home / "work", home / "state"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    ours = [p for p in home.iterdir() if p.is_file()] + [
        p for p in (home / "state").rglob("*") if p.is_file()
    ]
    assert any(p.name == "secret-key" for p in ours)
    loose = {str(p.relative_to(home)): oct(stat.S_IMODE(p.stat().st_mode)) for p in ours}
    assert {name: mode for name, mode in loose.items() if mode != "0o600"} == {}
    assert os.stat(home / "secret-key").st_size > 40
