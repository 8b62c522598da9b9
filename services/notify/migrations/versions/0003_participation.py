"""participation: an event's places and the sign-ups of those who will come"""
from shared.migrations import boolean, integer, new_tables, string, table, utc, uuid

revision = "0003"
down_revision = "0002"
upgrade, downgrade = new_tables(
    table("event_places", uuid("event_id"), integer("capacity?", "anonymous_limit?"),
          integer("coming", "waiting", "anonymous", "cancelled"), utc("updated_at"), primary_key="event_id"),
    table("participations", integer("seq", autoincrement=True), uuid("id", "event_id", "campaign_id?"),
          string(10, "status"), integer("party_size"), string(100, "name?"), boolean("show_name"),
          string(320, "email?"), uuid("subscription_id?"), string(8, "language"), utc("created_at", "cancelled_at?"),
          primary_key="seq",
          unique={"uq_participations_id": ("id",), "uq_participations_event_email": ("event_id", "email")},
          indexes={"ix_participations_event": ("event_id", "status", "seq"),
                   "ix_participations_subscription": ("subscription_id",)}),
)
