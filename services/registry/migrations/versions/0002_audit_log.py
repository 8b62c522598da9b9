"""the audit log: every decision, hash-chained, append-only"""
from alembic import op

from shared.migrations import bigint, create_tables, drop_tables, integer, json, string, table, text, utc, uuid

revision = "0002"
down_revision = "0001"
TABLES = (
    table("audit_entries", bigint("seq", autoincrement=False), uuid("message_id"), utc("occurred_at", "recorded_at"),
          string(20, "service", "actor_role"), uuid("actor_id?", "key_id?"), string(80, "action"),
          string(40, "subject_kind"), string(80, "subject_id"), text("reason?"), json("before", "after"),
          string(64, "previous_hash", "hash"), primary_key="seq", unique={None: ("message_id",)},
          indexes={"ix_audit_entries_recorded": ("recorded_at", "message_id"),
                   "ix_audit_entries_subject": ("subject_kind", "subject_id"),
                   "ix_audit_entries_actor": ("actor_id",)}),
    table("audit_head", integer("id", autoincrement=False), bigint("seq"), string(64, "hash")),
)
# Entries are only ever added. A trigger cannot stop the database's owner (who can drop it),
# which is why entries are also hash-chained: `doa audit verify` finds what was changed.
APPEND_ONLY = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are never changed or removed';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
"""


def upgrade() -> None:
    create_tables(*TABLES)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    drop_tables(*TABLES)
