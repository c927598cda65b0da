"""Record ids are never reused: AUTOINCREMENT on SQLite (PostgreSQL sequences never reuse ids).

Without it SQLite gives a deleted record's id to the next record, and a grant or request that
named the old id would name the new one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:40:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The table is rebuilt (foreign keys are off during migrations, so its children stay).
    with op.batch_alter_table("records", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("records", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
