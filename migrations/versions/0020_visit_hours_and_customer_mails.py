"""registration.visit_id (a visit becomes hours once), company_settings.visits_become_hours, and per-customer
notification settings (customer.mail_approval_requests, mail_reminders, mail_answers)

Revision ID: 0020
Revises: 0019
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAIL_COLUMNS = ("mail_approval_requests", "mail_reminders", "mail_answers")


def upgrade() -> None:
    # plain ADD COLUMN; SQLite cannot ALTER a constraint in, so the foreign key is PostgreSQL's only
    op.add_column("registration", sa.Column("visit_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key("fk_registration_visit_id_visit", "registration", "visit", ["visit_id"], ["id"])
    op.create_index("ux_registration_visit", "registration", ["visit_id"], unique=True)
    op.add_column("company_settings", sa.Column("visits_become_hours", sa.Boolean(), nullable=False,
                                                server_default=sa.false()))
    for name in MAIL_COLUMNS:
        op.add_column("customer", sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        for name in MAIL_COLUMNS:
            batch_op.drop_column(name)
    with op.batch_alter_table("company_settings", schema=None) as batch_op:
        batch_op.drop_column("visits_become_hours")
    op.drop_index("ux_registration_visit", table_name="registration")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_registration_visit_id_visit", "registration", type_="foreignkey")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("visit_id")
