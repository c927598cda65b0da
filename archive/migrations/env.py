"""Alembic environment: runs migrations on the URL set by archive.db.alembic_config."""

from alembic import context
from sqlalchemy import create_engine, pool, text

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
            if connection.dialect.name == "postgresql":
                # Several API/worker processes may start together: one migrates, the rest wait.
                connection.execute(text("SELECT pg_advisory_xact_lock(7262026)"))
            context.run_migrations()


run_migrations()
