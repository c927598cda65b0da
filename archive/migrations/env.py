"""Alembic environment: runs migrations on the URL set by archive.db.alembic_config."""

from alembic import context
from sqlalchemy import create_engine, pool

from archive.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run online migrations (render_as_batch so SQLite can alter tables)."""
    url = config.get_main_option("sqlalchemy.url")
    assert url
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
