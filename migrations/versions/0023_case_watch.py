"""case_watch: indexes for the case list's filters in its newest-first order; timer_catch_up (missed reminders)

Revision ID: 0023
Revises: 0022
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> (table, columns): the case list (engine.services.case_list), newest first, by each filter that
# narrows it most; the unfiltered list uses ix_workflow_instance_created (0015). Per element and state,
# human_task gives the diagram's counts and times (engine.services.process_stats).
INDEXES = {
    "ix_workflow_instance_process_created": ("workflow_instance", ["process_id", "created_at", "id"]),
    "ix_workflow_instance_version_created": ("workflow_instance", ["process_version_id", "created_at", "id"]),
    "ix_workflow_instance_status_created": ("workflow_instance", ["status", "created_at", "id"]),
    "ix_workflow_instance_customer_created": ("workflow_instance", ["customer_id", "created_at", "id"]),
    "ix_human_task_element_status": ("human_task", ["element_id", "status", "instance_id"]),
    "ix_timer_element": ("timer", ["element_id", "instance_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    op.create_table(
        "timer_catch_up",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("workflow_instance.id"), primary_key=True),
        sa.Column("element_id", sa.String(200), primary_key=True),
        sa.Column("choice", sa.String(20), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("timer_catch_up")
    for name, (table, _) in reversed(INDEXES.items()):
        op.drop_index(name, table_name=table)
