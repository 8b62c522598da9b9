"""idempotency keys: a POST sent again with the same Idempotency-Key gets its first answer"""
from shared.bus.tables import add_idempotency_table
from shared.migrations import new_tables

revision = "0005"
down_revision = "0004"
upgrade, downgrade = new_tables(add_idempotency_table)
