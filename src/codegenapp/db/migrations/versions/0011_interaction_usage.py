"""agent interaction usage

What a turn used, when its agent reported it (a command-line agent's usage file): tokens in
and out, the cost in US dollars and the model. Turns from before, and every Codegen API turn,
report none: the columns stay NULL.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "agent_interactions", table_kwargs={"sqlite_autoincrement": True}
    ) as table:
        table.add_column(sa.Column("input_tokens", sa.Integer(), nullable=True))
        table.add_column(sa.Column("output_tokens", sa.Integer(), nullable=True))
        table.add_column(sa.Column("cost_usd", sa.Double(), nullable=True))
        table.add_column(sa.Column("usage_model", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "agent_interactions", table_kwargs={"sqlite_autoincrement": True}
    ) as table:
        table.drop_column("usage_model")
        table.drop_column("cost_usd")
        table.drop_column("output_tokens")
        table.drop_column("input_tokens")
