"""contact.approver, company_settings.email_one_click_decisions, email_link_use (used one-click links)

Revision ID: 0016
Revises: 0015
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (SQLite has it): batch mode would reflect the tables and warn about customer's
    # expression index (0015), which SQLite reflection does not support
    op.add_column("contact", sa.Column("approver", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("company_settings", sa.Column("email_one_click_decisions", sa.Boolean(), nullable=False,
                                                server_default=sa.false()))
    op.create_table(
        "email_link_use",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("task_id", sa.Integer(), nullable=False, index=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_link_use")
    with op.batch_alter_table("company_settings", schema=None) as batch_op:
        batch_op.drop_column("email_one_click_decisions")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("approver")
