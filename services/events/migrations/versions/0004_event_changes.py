"""event changes: an organisation's change to an approved event waits for a coordinator"""
from shared.migrations import index, json, new_tables, string, table, text, utc, uuid

revision = "0004"
down_revision = "0003"
upgrade, downgrade = new_tables(table(
    "event_changes", uuid("id", "event_id"), json("proposed", "before"), uuid("proposed_by"), utc("proposed_at"),
    string(20, "status"), uuid("decided_by?"), utc("decided_at?"), text("reason?"),
    foreign_keys={"event_id": "local_events.id"},
    indexes={"ix_event_changes_event": ("event_id", "proposed_at"),
             "ix_event_changes_status": ("status", "proposed_at", "id"),
             "uq_event_changes_pending": index("event_id", unique=True, where="status = 'pending'")}))
