"""baselines and faults

A validation may now be a *baseline*: the base branch validated once per sha, with no pull
request. Each validation records whose fault a failure is (code, setup, infrastructure) and
the check that failed, so that a pull request's failure can be compared with its base's.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot drop NOT NULL in place: batch mode copies the table (AUTOINCREMENT kept).
    with op.batch_alter_table("validations", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="pull_request")
        )
        table.add_column(sa.Column("base_branch", sa.String(255), nullable=True))
        table.add_column(sa.Column("base_sha", sa.String(64), nullable=True))
        table.add_column(sa.Column("settings_digest", sa.String(16), nullable=True))
        table.add_column(sa.Column("fault", sa.String(16), nullable=True))
        table.add_column(sa.Column("failed_check", sa.String(32), nullable=True))
        table.alter_column("pull_request_id", existing_type=sa.Integer(), nullable=True)
        table.alter_column("pr_number", existing_type=sa.Integer(), nullable=True)
        table.create_index(op.f("ix_validations_kind"), ["kind"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM validations WHERE kind = 'baseline'")
    with op.batch_alter_table("validations", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.drop_index(op.f("ix_validations_kind"))
        table.alter_column("pr_number", existing_type=sa.Integer(), nullable=False)
        table.alter_column("pull_request_id", existing_type=sa.Integer(), nullable=False)
        table.drop_column("failed_check")
        table.drop_column("fault")
        table.drop_column("settings_digest")
        table.drop_column("base_sha")
        table.drop_column("base_branch")
        table.drop_column("kind")
