"""the secret that chooses each event's coarse point while its address is hidden"""
from shared.migrations import integer, new_tables, string, table

revision = "0005"
down_revision = "0004"
upgrade, downgrade = new_tables(table("place_keys", integer("id"), string(128, "secret")))
