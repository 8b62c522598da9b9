"""when the bus was told where an event is (its hidden address became public); co-hosts"""
import sqlalchemy as sa
from alembic import op

from shared.migrations import create_tables, drop_tables, string, table, utc, uuid

revision = "0006"
down_revision = "0005"


HOSTS = table("event_hosts", uuid("event_id", "organisation_id"), string(10, "status"),
              utc("invited_at", "accepted_at?"), primary_key=("event_id", "organisation_id"),
              foreign_keys={"event_id": "local_events.id"})


def upgrade() -> None:
    with op.batch_alter_table("local_events") as batch_op:
        for column in utc("place_told_at?"):
            batch_op.add_column(column)
        batch_op.add_column(sa.Column("co_hosts", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("local_events") as batch_op:
        batch_op.alter_column("co_hosts", server_default=None, existing_type=sa.JSON())
    create_tables(HOSTS)


def downgrade() -> None:
    drop_tables(HOSTS)
    with op.batch_alter_table("local_events") as batch_op:
        batch_op.drop_column("co_hosts")
        batch_op.drop_column("place_told_at")
