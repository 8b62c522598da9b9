"""initial schema"""
from shared.bus.tables import add_kernel_tables
from shared.migrations import boolean, date, floating, integer, json, new_tables, string, table, text, utc, uuid

revision = "0001"
down_revision = None
upgrade, downgrade = new_tables(
    add_kernel_tables,
    table("campaigns", uuid("id"), string(300, "name"), text("description"), json("languages"),
          date("day_of_action", "window_start", "window_end", "list_date?"), json("activity_types"),
          string(10, "status"), integer("adoption_threshold?"), utc("adopted_at?", "created_at", "updated_at"),
          indexes={"ix_campaigns_created": ("created_at", "id"),
                   "ix_campaigns_status_created": ("status", "created_at", "id")}),
    # The events service's own holds: with the reason, which stays here.
    table("country_holds", string(2, "country"), text("reason"), utc("held_at"), uuid("held_by"),
          primary_key="country"),
    table("known_organisations", uuid("id"), string(40, "abbreviation"), string(300, "name", "name_en"),
          string(2, "country"), string(64, "timezone"), json("languages"), string(500, "website?"),
          string(20, "status"), utc("as_of")),
    table("endorsements", uuid("id", "campaign_id", "organisation_id"), utc("endorsed_at", "withdrawn_at?"),
          foreign_keys={"campaign_id": "campaigns.id"},
          unique={"uq_endorsements_campaign_org": ("campaign_id", "organisation_id")},
          indexes={"ix_endorsements_order": ("campaign_id", "endorsed_at", "id")}),
    table("local_events", uuid("id", "campaign_id", "organisation_id"), json("title", "description", "languages"),
          string(40, "activity_type"), string(200, "city"), string(2, "country"), string(300, "venue?"),
          string(500, "address?"), floating("latitude?", "longitude?"), string(64, "timezone"),
          string(19, "starts_local", "ends_local"), utc("starts_at", "ends_at"), string(500, "online_url?"),
          integer("expected_participants?"), string(20, "visibility", "address_public"),
          integer("address_public_hours?"), string(20, "status"), utc("approved_at?"), text("search_text"),
          text("rejection_reason?"), boolean("outside_window"), integer("sequence"), utc("created_at", "updated_at"),
          foreign_keys={"campaign_id": "campaigns.id"},
          indexes={"ix_local_events_campaign_start": ("campaign_id", "starts_at", "id"),
                   "ix_local_events_country_start": ("country", "starts_at", "id"),
                   "ix_local_events_organisation": ("organisation_id", "starts_at"),
                   "ix_local_events_start": ("starts_at", "id"),
                   "ix_local_events_statistics": ("campaign_id", "status", "visibility", "country", "activity_type",
                                                  "organisation_id", "expected_participants", "approved_at")}),
)
