"""Indexes on the processing status of records and jobs, and on the severity of findings: the
工作台's system panel, `archive status`, `archive jobs`, the breach counts and 合规检查's ranking
count and list by them, which scanned a million rows at a province's scale.

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
    op.create_index("ix_findings_severity", "findings", ["severity"])
    op.create_index("ix_findings_case_severity", "findings", ["case_id", "severity"])


def downgrade() -> None:
    op.drop_index("ix_findings_case_severity", table_name="findings")
    op.drop_index("ix_findings_severity", table_name="findings")
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("ix_records_status", table_name="records")
