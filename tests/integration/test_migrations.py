"""The migrations build exactly the schema the models describe, on both databases: a column
added to a table class without its migration (or the other way round) fails here."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from tests.conftest import postgres_database

from codegenapp.db import migrate
from codegenapp.db.tables import Base
from codegenapp.settings import to_async_url


def _differences(sync_url: str) -> list[object]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


async def test_the_migrations_make_what_the_models_say_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.sqlite'}"
    await migrate.upgrade(to_async_url(url))
    assert _differences(url) == []


async def test_the_migrations_make_what_the_models_say_on_postgresql() -> None:
    with postgres_database() as url:
        await migrate.upgrade(to_async_url(url))
        assert _differences(url.replace("postgresql://", "postgresql+psycopg://")) == []
