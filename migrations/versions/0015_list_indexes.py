"""list_indexes: composite indexes matching each paged list's filter and keyset order

Revision ID: 0015
Revises: 0012
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> (table, columns): the inbox and portal (open tasks of a lane and customer by deadline), the board
# (cases of a customer, or of a case status, newest first), the registrations list (newest work date first)
INDEXES = {
    "ix_human_task_open_lane_customer_due": ("human_task", ["status", "role", "customer_id", "due_at", "id"]),
    # covering for a manager's board (its customers, any filter): no read of the wide row to decide a match
    "ix_workflow_instance_board": ("workflow_instance", ["customer_id", "case_status", "status", "process_id",
                                                         "created_at", "id"]),
    "ix_workflow_instance_case_status_created": ("workflow_instance", ["case_status", "created_at", "id"]),
    "ix_workflow_instance_created": ("workflow_instance", ["created_at", "id"]),
    "ix_registration_work_date_id": ("registration", ["work_date", "id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    op.create_index("ix_customer_lower_name_id", "customer", [sa.text("lower(name)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_lower_name_id", table_name="customer")
    for name, (table, _) in reversed(INDEXES.items()):
        op.drop_index(name, table_name=table)
