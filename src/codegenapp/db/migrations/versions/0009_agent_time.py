"""agent time per run

An agent run adds up the seconds its agent worked (its turns), for the project's
`agent.budgets.minutes_per_run`. Existing runs start at 0.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_runs", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.add_column(
            sa.Column("agent_seconds", sa.Double(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_runs", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.drop_column("agent_seconds")
