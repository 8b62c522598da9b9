"""statistics from running tallies"""
from alembic import op

from shared.migrations import create_tables, drop_tables, integer, string, table, uuid

revision = "0002"
down_revision = "0001"
TALLIES = table("event_tallies", uuid("campaign_id"), string(2, "country"), string(40, "activity_type"),
                uuid("organisation_id"), string(20, "visibility"), integer("events", "expected_participants"),
                primary_key=("campaign_id", "country", "activity_type", "organisation_id", "visibility"),
                foreign_keys={"campaign_id": "campaigns.id"})
# What the statistics were computed from before: no longer needed.
STATISTICS_INDEX = ("campaign_id", "status", "visibility", "country", "activity_type", "organisation_id",
                    "expected_participants", "approved_at")


def upgrade() -> None:
    create_tables(TALLIES)
    # The events approved so far, counted once; from now on every write keeps the tallies.
    op.execute("INSERT INTO event_tallies (campaign_id, country, activity_type, organisation_id, visibility, "
               "events, expected_participants) SELECT campaign_id, country, activity_type, organisation_id, "
               "visibility, count(*), coalesce(sum(expected_participants), 0) FROM local_events "
               "WHERE status = 'approved' GROUP BY campaign_id, country, activity_type, organisation_id, visibility")
    op.drop_index("ix_local_events_statistics", table_name="local_events")


def downgrade() -> None:
    op.create_index("ix_local_events_statistics", "local_events", list(STATISTICS_INDEX))
    drop_tables(TALLIES)
