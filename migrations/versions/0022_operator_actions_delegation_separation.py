"""human_task.assignee_staff_id, on_behalf_of, separation; workflow_instance.started_by_staff_id; delegation

Revision ID: 0022
Revises: 0020
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (see 0016: batch mode would reflect the tables)
    # ids without a foreign key, like human_task.customer_id: SQLite cannot add a constraint to a table
    op.add_column("human_task", sa.Column("assignee_staff_id", sa.Integer(), nullable=True))
    op.create_index("ix_human_task_assignee_staff_id", "human_task", ["assignee_staff_id"])
    op.add_column("human_task", sa.Column("on_behalf_of", sa.String(200), nullable=True))
    op.add_column("human_task", sa.Column("separation", sa.String(100), nullable=True))
    op.add_column("workflow_instance", sa.Column("started_by_staff_id", sa.Integer(), nullable=True))
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=False, index=True),
        sa.Column("stand_in_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_delegation_stand_in_period", "delegation", ["stand_in_id", "starts_on", "ends_on"])


def downgrade() -> None:
    op.drop_table("delegation")
    op.drop_index("ix_human_task_assignee_staff_id", table_name="human_task")
    with op.batch_alter_table("workflow_instance", schema=None) as batch_op:
        batch_op.drop_column("started_by_staff_id")
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        for column in ("separation", "on_behalf_of", "assignee_staff_id"):
            batch_op.drop_column(column)
