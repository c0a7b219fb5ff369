"""process_version.deployed_by: who deployed the version (the actor's name)

Revision ID: 0017
Revises: 0016
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("process_version", sa.Column("deployed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.drop_column("deployed_by")
