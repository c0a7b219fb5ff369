"""inbox_deadline_index: open tasks in the inbox's order (deadline, no deadline last, then id)

Revision ID: 0024
Revises: 0023

The inbox shows the first page of the open tasks offered to a staff member, soonest deadline first. Its offer
condition (lanes and customers, assigned, stand-ins: an OR PostgreSQL cannot estimate) made the planner
expect thousands of matches and join every case to sort them: 150 ms a page at 100,000 open tasks. With the
open tasks indexed in that order it walks them until the page is full: 6 ms.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index("ix_human_task_open_deadline", "human_task", [sa.text("(due_at IS NULL)"), "due_at", "id"],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_human_task_open_deadline", table_name="human_task")
