"""process_binding (which process approves a case type, per company and per customer), workflow_instance.case_type

Revision ID: 0018
Revises: 0017
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the shipped processes and the case type they approve (engine.services.bindings.DEFAULT_PROCESSES)
SHIPPED = {"job": "job_approval", "timesheet": "timesheet_approval"}


def upgrade() -> None:
    binding = op.create_table(
        "process_binding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_type", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True, index=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("bound_by", sa.String(200), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_type", "customer_id", name="uq_process_binding_customer"),
    )
    # NULL is not equal to NULL in the unique constraint: one company default per case type needs its own index
    op.create_index("uq_process_binding_company", "process_binding", ["case_type"], unique=True,
                    sqlite_where=sa.text("customer_id IS NULL"), postgresql_where=sa.text("customer_id IS NULL"))
    now = datetime.now(UTC)
    op.bulk_insert(binding, [{"case_type": case_type, "customer_id": None, "process_id": process_id,
                              "bound_by": "migration 0018", "bound_at": now}
                             for case_type, process_id in SHIPPED.items()])
    op.add_column("workflow_instance", sa.Column("case_type", sa.String(40), nullable=True))
    for case_type, process_id in SHIPPED.items():
        op.execute(sa.text("UPDATE workflow_instance SET case_type = :case_type WHERE process_id = :process_id")
                   .bindparams(case_type=case_type, process_id=process_id))
    op.drop_index("ix_workflow_instance_board", table_name="workflow_instance")
    op.create_index("ix_workflow_instance_board", "workflow_instance",
                    ["customer_id", "case_status", "status", "case_type", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_workflow_instance_board", table_name="workflow_instance")
    op.create_index("ix_workflow_instance_board", "workflow_instance",
                    ["customer_id", "case_status", "status", "process_id", "created_at", "id"])
    with op.batch_alter_table("workflow_instance", schema=None) as batch_op:
        batch_op.drop_column("case_type")
    op.drop_index("uq_process_binding_company", table_name="process_binding")
    op.drop_table("process_binding")
