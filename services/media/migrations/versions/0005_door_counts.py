"""door counts: the people counted at each event's door (notify's check-in), for the turnout"""
from shared.migrations import integer, new_tables, table, utc, uuid

revision = "0005"
down_revision = "0004"
upgrade, downgrade = new_tables(
    table("event_check_ins", uuid("event_id", "campaign_id"), integer("checked_in"), utc("as_of"),
          primary_key="event_id"))
