"""public revisions: how often what the public sees of each campaign has changed

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('public_revisions',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    # Every campaign known so far starts at 1; from now on every write that changes its outputs moves it.
    op.execute("INSERT INTO public_revisions (campaign_id, revision) SELECT id, 1 FROM known_campaigns")


def downgrade() -> None:
    op.drop_table('public_revisions')
