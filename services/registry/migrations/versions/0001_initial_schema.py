"""initial schema"""
from shared.bus.tables import add_kernel_tables
from shared.migrations import json, new_tables, string, table, text, utc, uuid

revision = "0001"
down_revision = None
upgrade, downgrade = new_tables(
    add_kernel_tables,
    table("api_keys", uuid("id"), string(20, "owner_kind"), uuid("owner_id"), string(100, "label?"),
          string(64, "digest"), utc("created_at", "last_used_at?", "revoked_at?"),
          indexes={"ix_api_keys_owner": ("owner_kind", "owner_id", "created_at")}),
    table("coordinators", uuid("id"), string(200, "name"), utc("created_at")),
    table("organisations", uuid("id"), string(40, "abbreviation"), string(120, "abbreviation_key"),
          string(300, "name", "name_en"), string(2, "country"), string(64, "timezone"), json("languages"),
          string(500, "website?"), string(320, "contact_email?"), string(20, "status"), text("suspension_reason?"),
          utc("created_at", "updated_at"),
          unique={"uq_organisations_country_abbreviation": ("country", "abbreviation_key")},
          indexes={"ix_organisations_country_created": ("country", "created_at", "id"),
                   "ix_organisations_created": ("created_at", "id"),
                   "ix_organisations_status_created": ("status", "created_at", "id")}),
    table("signing_keys", uuid("kid"), text("private_pem"), utc("created_at", "retired_at?"), primary_key="kid"),
)
