"""uploads, reports and the material package"""
from shared.country_holds import add_country_holds_table
from shared.migrations import bigint, boolean, double, index, integer, json, new_tables, string, table, text, utc, uuid

revision = "0002"
down_revision = "0001"
upgrade, downgrade = new_tables(
    table("blobs", string(64, "sha256"), bigint("size"), string(100, "content_type"), utc("created_at"),
          primary_key="sha256"),
    add_country_holds_table,
    table("known_campaigns", uuid("id"), string(300, "name"), string(10, "status"), boolean("require_face_blur"),
          utc("as_of")),
    table("known_events", uuid("id", "campaign_id", "organisation_id"), string(2, "country"), utc("ends_at"),
          string(20, "status", "visibility"), utc("as_of")),
    table("known_organisations", uuid("id"), string(20, "status"), utc("as_of")),
    table("resumable_uploads", uuid("id", "organisation_id?", "uploaded_by"), bigint("length", "offset"),
          json("options"), uuid("media_id?"), utc("created_at", "expires_at")),
    table("media_items", uuid("id", "organisation_id?", "uploaded_by", "campaign_id", "event_id?"),
          string(10, "kind"), string(100, "content_type"), bigint("size"), string(200, "name?"),
          string(64, "original_sha256"), boolean("consent", "blur_faces"), string(12, "status"), text("reason?"),
          integer("attempts"), utc("claimed_at?"), string(64, "clean_sha256?"), string(100, "clean_content_type?"),
          json("variants"), integer("width?", "height?"), double("duration?"), integer("faces_blurred?"),
          utc("created_at", "processed_at?"),
          foreign_keys={"campaign_id": "known_campaigns.id", "clean_sha256": "blobs.sha256",
                        "event_id": "known_events.id"},
          indexes={"ix_media_items_original": ("original_sha256",),
                   "ix_media_items_owner": ("organisation_id", "created_at", "id"),
                   "ix_media_items_status": ("status", "created_at")}),
    table("reports", uuid("id", "campaign_id", "event_id?", "organisation_id"), string(2, "country"),
          string(300, "title"), text("text"), string(8, "language"), integer("turnout?"), string(10, "status"),
          text("reason?"), utc("created_at", "updated_at", "published_at?"),
          foreign_keys={"campaign_id": "known_campaigns.id", "event_id": "known_events.id"},
          indexes={"ix_reports_campaign": ("campaign_id", "status", "created_at", "id"),
                   "ix_reports_owner": ("organisation_id", "created_at", "id")}),
    table("materials", uuid("id", "series_id"), integer("version"), boolean("current"), uuid("campaign_id"),
          string(12, "kind"), string(8, "language"), string(300, "title"), text("description"),
          uuid("media_id", "published_by"), utc("created_at"),
          foreign_keys={"campaign_id": "known_campaigns.id", "media_id": "media_items.id"},
          indexes={"ix_materials_campaign": ("campaign_id", "current", "kind", "created_at"),
                   "ix_materials_series": index("series_id", "version", unique=True)}),
    table("report_media", uuid("report_id", "media_id"), integer("position"), primary_key=("report_id", "media_id"),
          foreign_keys={"media_id": "media_items.id", "report_id": "reports.id"}),
)
