"""public revisions: how often what the public sees of each campaign has changed"""
from shared.migrations import new_tables
from shared.revisions import add_public_revisions_table

revision = "0003"
down_revision = "0002"
# Every campaign known so far starts at 1; from now on every write that changes its outputs moves it.
upgrade, downgrade = new_tables(add_public_revisions_table,
                                   then="INSERT INTO public_revisions (campaign_id, revision) "
                                        "SELECT id, 1 FROM known_campaigns")
