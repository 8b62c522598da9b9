"""a campaign's own retention of its participants' sign-ups (days after each event ends)"""
from shared.migrations import integer, new_columns

revision = "0007"
down_revision = "0006"
upgrade, downgrade = new_columns("campaigns", integer("participation_keep_days?"))
