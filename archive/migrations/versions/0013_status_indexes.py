"""Indexes on the processing status of records and jobs: the 工作台's system panel, `archive
status` and `archive jobs` count and list by status, which scanned a million rows at a
province's scale.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 09:00:00
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_records_status", "records", ["status"])
    op.create_index("ix_jobs_status", "jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("ix_records_status", table_name="records")
