"""process_scenario: saved dry-run scenarios per process id

Revision ID: 0019
Revises: 0018
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "process_scenario",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("process_id", sa.String(200), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("start_data", sa.JSON(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(200), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("process_id", "name", name="uq_process_scenario_name"),
    )


def downgrade() -> None:
    op.drop_table("process_scenario")
