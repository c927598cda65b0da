"""The same bytes are one record per case, not one record in the whole archive.

A file can rightly belong to several cases (a 营业执照 copy, a shared inspection photo), and an
archive-wide uniqueness told an uploader that the file sat "in a case you cannot view", then kept
them from adding it to their own case.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CASELESS = sa.text("case_id IS NULL")


def _sha256_unique_name() -> str | None:
    for uq in sa.inspect(op.get_bind()).get_unique_constraints("records"):
        if uq["column_names"] == ["sha256"]:
            return uq["name"]
    return None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite: the table is rebuilt without its unnamed UNIQUE(sha256), keeping AUTOINCREMENT.
    with op.batch_alter_table(
        "records",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True} if sqlite else {},
        naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"},
    ) as batch_op:
        batch_op.drop_constraint(_sha256_unique_name() or "uq_records_sha256", type_="unique")
        batch_op.create_unique_constraint("uq_records_case_sha256", ["case_id", "sha256"])
    op.create_index("ix_records_sha256", "records", ["sha256"])
    op.create_index(
        "uq_records_caseless_sha256",
        "records",
        ["sha256"],
        unique=True,
        sqlite_where=CASELESS,
        postgresql_where=CASELESS,
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("uq_records_caseless_sha256", table_name="records")
    op.drop_index("ix_records_sha256", table_name="records")
    with op.batch_alter_table(
        "records",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True} if sqlite else {},
    ) as batch_op:
        batch_op.drop_constraint("uq_records_case_sha256", type_="unique")
        batch_op.create_unique_constraint("uq_records_sha256", ["sha256"])
