"""Format versions: which crosswalk version each format's renditions were made with.

Renditions so far were all made by oai_dc's first crosswalk, so the store starts at
oai_dc "1"; formats registered later have no row until `oai formats rebuild` renders them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "format_versions",
        sa.Column("prefix", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("rebuilding", sa.String(64), nullable=True),
        sa.Column("rebuilt_after", sa.String(200), nullable=True),
    )
    op.bulk_insert(table, [{"prefix": "oai_dc", "version": "1", "rebuilding": None,
                            "rebuilt_after": None}])


def downgrade() -> None:
    op.drop_table("format_versions")
