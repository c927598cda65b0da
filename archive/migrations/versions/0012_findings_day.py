"""The day a case's findings were last computed, so pages read them instead of recomputing every
visible case on each view (deadlines move with the day: a case is recomputed once a day, or
whenever it or its records change).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("findings_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("findings_on")
