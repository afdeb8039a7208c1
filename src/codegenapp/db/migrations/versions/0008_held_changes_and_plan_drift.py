"""held changes and plan drift

An agent run keeps the plan a person confirmed, the change that bent the gate and waits (or
waited) for a person's approval, and how its pull request kept to the confirmed plan. Its new
status, `waiting_approval`, fits the status column as it is.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_runs", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.add_column(sa.Column("confirmed_plan", sa.Text(), nullable=True))
        table.add_column(sa.Column("held_change", sa.JSON(), nullable=True))
        table.add_column(sa.Column("plan_drift", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A run waiting for approval has no status the older schema's code knows: it is cancelled.
    op.execute(
        "UPDATE agent_runs SET status = 'cancelled', result = 'Cancelled by a downgrade while "
        "waiting for a person to approve its change.' WHERE status = 'waiting_approval'"
    )
    with op.batch_alter_table("agent_runs", table_kwargs={"sqlite_autoincrement": True}) as table:
        table.drop_column("plan_drift")
        table.drop_column("held_change")
        table.drop_column("confirmed_plan")
