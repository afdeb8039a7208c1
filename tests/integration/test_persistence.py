"""The write path on SQLite and PostgreSQL: events ride in the same transaction and are
published only after it commits; repeated writes leave one event."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from tests.conftest import SettingsFactory

from codegenapp.db import migrate
from codegenapp.db.engine import Database
from codegenapp.db.queries import agent_runs, events, projects, pull_requests, tokens
from codegenapp.db.tables import PullRequestRow, utcnow
from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.events import EventRecord, EventType
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import AgentRunStatus
from codegenapp.drivers.agent.recipe import TurnKind, parse_recipe
from codegenapp.settings import Settings


class Published:
    def __init__(self) -> None:
        self.events: list[EventRecord] = []

    async def __call__(self, batch: Sequence[EventRecord]) -> None:
        self.events.extend(batch)


@pytest.fixture
async def database(
    make_settings: SettingsFactory, database_url: str | None
) -> AsyncIterator[tuple[Database, Published]]:
    settings: Settings = make_settings(database_url=database_url)
    settings.home.mkdir(parents=True)
    published = Published()
    db = Database(settings.app_database_url, on_commit=published)
    await migrate.upgrade(settings.app_database_url)
    await migrate.upgrade(settings.app_database_url)  # idempotent
    yield db, published
    await db.dispose()


async def _row_as_it_was(db: Database, table_name: str, values: dict[str, object]) -> int:
    """A row written with the schema the database has now (an old revision's, in the upgrade
    tests), not the models' newest one: the table is read back from the database."""
    async with db.transaction() as session:
        connection = await session.connection()
        table = await connection.run_sync(
            lambda sync: sa.Table(table_name, sa.MetaData(), autoload_with=sync)
        )
        now = utcnow()
        row = {"created_at": now, "updated_at": now, **values}
        inserted = await session.execute(table.insert().values(row).returning(table.c.id))
        return int(inserted.scalar_one())


async def _project_as_it_was(db: Database, *, name: str = "p", recipe: str = "/srv/x.yaml") -> int:
    values = {
        "name": name,
        "repository": "/srv/repo",
        "default_branch": "main",
        "agent": {"provider": "scripted", "recipe": recipe},
        **ProjectSettings().model_dump(mode="json"),
    }
    return await _row_as_it_was(db, "projects", values)


async def _project(db: Database) -> int:
    async with db.transaction() as session:
        project = await projects.create_project(
            session,
            name="p",
            repository="/srv/p",
            default_branch="main",
            agent=ScriptedAgentSettings(recipe="/srv/recipe.yaml"),
            settings=ProjectSettings(),
        )
    return project.id


async def test_events_are_published_after_commit_and_not_at_all_on_rollback(
    database: tuple[Database, Published],
) -> None:
    db, published = database
    project_id = await _project(db)
    assert [event.type for event in published.events] == [EventType.PROJECT_CREATED]

    async def fail_after_writing() -> None:
        async with db.transaction() as session:
            await agent_runs.create_run(session, project_id=project_id, goal="lost")
            assert len(published.events) == 1  # not before commit
            raise RuntimeError("the transaction fails")

    with pytest.raises(RuntimeError):
        await fail_after_writing()
    assert len(published.events) == 1
    async with db.read() as session:
        assert await events.list_events(session, since=published.events[0].id or 0) == []
        assert (await agent_runs.list_runs(session))[1] == 0


async def test_event_ids_increase_in_commit_order(database: tuple[Database, Published]) -> None:
    db, published = database
    project_id = await _project(db)
    for goal in ("one", "two", "three"):
        async with db.transaction() as session:
            await agent_runs.create_run(session, project_id=project_id, goal=goal)
    ids = [event.id for event in published.events]
    assert ids == sorted(set(ids))
    async with db.read() as session:
        stored = [row.id for row in await events.list_events(session)]
    assert stored == ids


async def _open_pull_request(session: AsyncSession, project_id: int, run_id: int) -> PullRequestRow:
    return await pull_requests.record_pull_request(
        session,
        project_id=project_id,
        agent_run_id=run_id,
        number=1,
        url="file:///srv/p#pull-1",
        title="t",
        branch="b",
        base_branch="main",
        head_sha="a" * 40,
    )


async def test_finishing_or_merging_twice_leaves_one_event(
    database: tuple[Database, Published],
) -> None:
    db, published = database
    project_id = await _project(db)
    async with db.transaction() as session:
        run = await agent_runs.create_run(session, project_id=project_id, goal="g")
        await agent_runs.mark_running(session, run.id, turn=1, message="Sent the goal")
        pr = await _open_pull_request(session, project_id, run.id)
    for _ in range(2):
        async with db.transaction() as session:
            await agent_runs.finish_run(
                session, run.id, status=AgentRunStatus.COMPLETED, result="ok"
            )
            await pull_requests.mark_merged(
                session, pr.id, merge_sha="b" * 40, agent_run_id=run.id, validation_id=1
            )
            await _open_pull_request(session, project_id, run.id)
    kinds = [event.type for event in published.events]
    assert kinds.count(EventType.AGENT_RUN_COMPLETED) == 1
    assert kinds.count(EventType.PULL_REQUEST_MERGED) == 1
    assert kinds.count(EventType.PULL_REQUEST_OPENED) == 1


async def test_tokens_are_stored_as_digests(database: tuple[Database, Published]) -> None:
    db, _ = database
    async with db.transaction() as session:
        row = await tokens.add_token(session, name="admin", token="plain-text-token-1234")
    assert "plain-text-token" not in row.token_hash
    async with db.read() as session:
        assert await tokens.find_token(session, "plain-text-token-1234") is not None
        assert await tokens.find_token(session, "plain-text-token-1235") is None


async def test_ids_are_never_reused_after_a_delete_and_upgrades_keep_the_rows(
    make_settings: SettingsFactory, database_url: str | None
) -> None:
    settings: Settings = make_settings(database_url=database_url)
    settings.home.mkdir(parents=True)
    await migrate.upgrade(settings.app_database_url, "0001")
    db = Database(settings.app_database_url)
    try:
        first_project = await _project_as_it_was(db)
        run_id = await _row_as_it_was(
            db,
            "agent_runs",
            {
                "project_id": first_project,
                "goal": "kept",
                "status": "pending",
                "branch": "",
                "agent_is_ai": False,
                "turns_requested": 0,
                "progress_cursor": 0,
                "segment": 0,
            },
        )
        await migrate.upgrade(settings.app_database_url)  # 0002 copies tables on SQLite

        async with db.read() as session:
            kept = await agent_runs.get_run(session, run_id)
        assert kept is not None
        assert kept.goal == "kept"  # the copy did not cascade-delete anything
        async with db.transaction() as session:
            project = await projects.get_project(session, first_project)
            assert project is not None
            await projects.delete_project(session, project)
        second_project = await _project(db)
        async with db.transaction() as session:
            again = await agent_runs.create_run(session, project_id=second_project, goal="new")
        assert second_project > first_project
        assert again.id > run_id  # its workflow id is new too
    finally:
        await db.dispose()


async def test_an_upgrade_copies_each_recipe_file_into_its_project(
    make_settings: SettingsFactory, database_url: str | None, tmp_path: Path
) -> None:
    settings: Settings = make_settings(database_url=database_url)
    settings.home.mkdir(parents=True)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("- reply: from the file\n")
    await migrate.upgrade(settings.app_database_url, "0002")
    db = Database(settings.app_database_url)
    try:
        for name, path in (("kept", recipe), ("lost", tmp_path / "gone.yaml")):
            await _project_as_it_was(db, name=name, recipe=str(path))
        await migrate.upgrade(settings.app_database_url)

        async with db.read() as session:
            rows, _ = await projects.list_projects(session)
        recipes = {row.name: projects.agent_settings_of(row).recipe for row in rows}
    finally:
        await db.dispose()
    assert recipes["kept"] == "- reply: from the file\n"
    assert "gone.yaml could not be copied into the project" in recipes["lost"]
    assert parse_recipe(recipes["lost"]).turns[0].kind is TurnKind.FAIL


async def test_a_locked_project_and_an_event_written_elsewhere_do_not_deadlock(
    database: tuple[Database, Published],
) -> None:
    """One transaction locks a project (an agent run's budget check) and then records an
    event; another records an event and then adds a run of that project (its insert waits for
    the project's lock). Taken in that order, PostgreSQL found a deadlock and the API answered
    500 (schemathesis, POST /api/v1/agent-runs); the event lock is now taken first."""
    db, _ = database
    project_id = await _project(db)
    locked, recorded = asyncio.Event(), asyncio.Event()

    async def budget_check() -> None:
        async with db.transaction() as session:
            await projects.get_project(session, project_id, lock=True)
            locked.set()
            with contextlib.suppress(TimeoutError):  # it cannot record first any more
                await asyncio.wait_for(recorded.wait(), 0.5)
            await events.record(
                session, EventType.AGENT_RUN_PROGRESS, project_id=project_id, data={"n": 1}
            )

    async def elsewhere() -> None:
        await locked.wait()
        async with db.transaction() as session:
            await events.record(
                session, EventType.AGENT_RUN_PROGRESS, project_id=project_id, data={"n": 2}
            )
            recorded.set()
            await agent_runs.create_run(session, project_id=project_id, goal="another")

    async with asyncio.timeout(30):
        await asyncio.gather(budget_check(), elsewhere())
    async with db.read() as session:
        _, total = await agent_runs.list_runs(session, project_id=project_id)
    assert total == 1
