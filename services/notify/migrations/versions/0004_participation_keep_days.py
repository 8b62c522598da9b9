"""the campaign's own retention of its participants' sign-ups, copied from the events service"""
from shared.migrations import integer, new_columns

revision = "0004"
down_revision = "0003"
upgrade, downgrade = new_columns("known_campaigns", integer("participation_keep_days?"))
