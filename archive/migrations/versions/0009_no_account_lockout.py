"""Wrong passwords no longer lock an account: its failure count and lock time go.

Failed sign-ins are slowed per user name and client address by the server instead (a lock that
anyone could trigger let anyone lock the administrator out).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
