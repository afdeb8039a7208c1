"""pull request authors

Pull requests now come from anyone on a GitHub project, not only from our agent runs: each
records who opened it (None for one of our agent runs' own, made before this revision), which
decides whether it may be merged automatically.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "pull_requests", table_kwargs={"sqlite_autoincrement": True}
    ) as table:
        table.add_column(sa.Column("author", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "pull_requests", table_kwargs={"sqlite_autoincrement": True}
    ) as table:
        table.drop_column("author")
