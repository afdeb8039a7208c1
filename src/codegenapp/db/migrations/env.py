"""Alembic environment: runs on the connection `db/migrate.py` hands over."""

from alembic import context
from sqlalchemy import create_engine

from codegenapp.db.tables import Base

target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    # `alembic revision --autogenerate` from a shell: a plain synchronous URL.
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///:memory:"
    with create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "")).connect() as conn:
        _run(conn)
