"""store scripted recipes inline

A project's `agent.recipe` was a path on the server, read whenever a run started: any caller
could make the server read any file (`/dev/zero`, `/etc/shadow`). It is now the recipe's YAML
text, stored with the project. This copies each recipe file into its project once, at upgrade
time (bounded, regular files only); a recipe that cannot be read becomes a recipe whose only
turn fails and says why, so the project stays readable and the operator sees what to fix.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import json
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from codegenapp.domain.project_settings import MAX_RECIPE_CHARS
from codegenapp.files import read_regular_file

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

projects = sa.table("projects", sa.column("id", sa.Integer), sa.column("agent", sa.JSON))


def _inlined(path: str) -> str:
    try:
        text = read_regular_file(Path(path), limit=MAX_RECIPE_CHARS).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = f"the recipe file {path} could not be copied into the project ({error})"
        return json.dumps({"turns": [{"fail": reason + "; set the project's recipe text"}]})
    return text


def upgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(projects.c.id, projects.c.agent)).all():
        agent = dict(row.agent or {})
        recipe = agent.get("recipe")
        # YAML text is a list or a mapping of turns: it never starts with a '/'.
        if isinstance(recipe, str) and recipe.startswith("/") and "\n" not in recipe:
            agent["recipe"] = _inlined(recipe)
            connection.execute(projects.update().where(projects.c.id == row.id).values(agent=agent))


def downgrade() -> None:
    # The files the paths named may be gone or changed; the text stays where it is.
    pass
