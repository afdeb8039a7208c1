"""Our own tables: SQLAlchemy 2 async models, one query module per entity, Alembic migrations."""
