"""participation: places, sign-ups, the hosts' messages, check-in at the door; events' co-hosts"""
import sqlalchemy as sa
from alembic import op

from shared.migrations import boolean, index, integer, json, new_tables, string, table, utc, uuid

revision = "0003"
down_revision = "0002"
_create, _drop = new_tables(
    table("event_places", uuid("event_id"), integer("capacity?", "anonymous_limit?"),
          integer("coming", "waiting", "anonymous", "cancelled", "checked_in"), utc("updated_at"),
          primary_key="event_id"),
    table("participations", integer("seq", autoincrement=True), uuid("id", "event_id", "campaign_id?"),
          string(12, "status"), integer("party_size"), string(100, "name?"), boolean("show_name"),
          string(320, "email?"), uuid("subscription_id?"), string(8, "language", "code"),
          utc("created_at", "cancelled_at?", "checked_in_at?"), primary_key="seq",
          unique={"uq_participations_id": ("id",), "uq_participations_event_code": ("event_id", "code")},
          indexes={"uq_participations_event_email": index("event_id", "email", unique=True,
                                                          where="status != 'cancelled'"),
                   "ix_participations_event": ("event_id", "status", "seq"),
                   "ix_participations_subscription": ("subscription_id",)}),
    table("host_messages", uuid("id", "event_id"), string(20, "author_role"), uuid("author_id"), json("text"),
          utc("created_at"), indexes={"ix_host_messages_event": ("event_id", "created_at")}),
    table("check_ins", uuid("id", "event_id"), string(12, "kind"), integer("delta"), utc("at", "received_at"),
          indexes={"ix_check_ins_event": ("event_id", "received_at")}),
)


def upgrade() -> None:
    _create()
    # The events' co-hosts share the hosts' view: notify's copy of an event keeps them.
    with op.batch_alter_table("known_events") as batch_op:
        batch_op.add_column(sa.Column("co_hosts", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("known_events") as batch_op:
        batch_op.alter_column("co_hosts", server_default=None, existing_type=sa.JSON())


def downgrade() -> None:
    with op.batch_alter_table("known_events") as batch_op:
        batch_op.drop_column("co_hosts")
    _drop()
