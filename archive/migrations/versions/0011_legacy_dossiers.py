"""Closed paper dossiers imported by their own 卷内目录: a legacy flag on cases, the scanned
original kept on the dossier, and the imports on their way in (upload → review → confirm).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("legacy", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.add_column(sa.Column("source_sha256", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("source_name", sa.String(512), nullable=True))
    op.create_table(
        "dossier_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source_name", sa.String(512), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("source_mime", sa.String(128), nullable=False),
        sa.Column("catalog_name", sa.String(512), nullable=True),
        sa.Column("catalog_sha256", sa.String(64), nullable=True),
        sa.Column("proposal", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("progress", sa.String(128), nullable=False),
        sa.Column("case_no", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dossier_imports_status", "dossier_imports", ["status"])


def downgrade() -> None:
    op.drop_index("ix_dossier_imports_status", "dossier_imports")
    op.drop_table("dossier_imports")
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.drop_column("source_name")
        batch_op.drop_column("source_sha256")
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("legacy")
