"""project forges

A project's repository may now live on GitHub: `forge` says where ("local" for every project
made before, whose repository is a path on this server).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.add_column(sa.Column("forge", sa.String(16), nullable=False, server_default="local"))


def downgrade() -> None:
    op.execute("DELETE FROM projects WHERE forge <> 'local'")
    with op.batch_alter_table("projects", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.drop_column("forge")
