"""never reuse ids on SQLite

Our ids name durable workflows; SQLite hands out a deleted row's id again unless the table
is AUTOINCREMENT (seen: a second `make demo` got agent run 1 again, whose workflow id already
existed, and the run never started). PostgreSQL sequences never reuse ids: nothing to do.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "projects",
    "agent_runs",
    "pull_requests",
    "validations",
    "validation_steps",
    "api_tokens",
)


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        # SQLite cannot alter this in place: batch mode copies the table into a new one.
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
