"""Release gate: verdicts per rendition, the previews an archivist opened, transcript-only releases.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("audio_s", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "tag", name="uq_release_checks_record_tag"),
    )
    with op.batch_alter_table("release_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_checks_record_id"), ["record_id"], unique=False)
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previews", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("release_modes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_column("release_modes")
        batch_op.drop_column("previews")
    with op.batch_alter_table("release_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_checks_record_id"))
    op.drop_table("release_checks")
