"""when the bus was told where an event is (its hidden address became public)"""
from alembic import op

from shared.migrations import utc

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("local_events") as batch_op:
        for column in utc("place_told_at?"):
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("local_events") as batch_op:
        batch_op.drop_column("place_told_at")
