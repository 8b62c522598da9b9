"""event changes: an organisation's change to an approved event waits for a coordinator

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_changes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('proposed', sa.JSON(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('proposed_by', sa.String(length=36), nullable=False),
    sa.Column('proposed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['local_events.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_event_changes_event', 'event_changes', ['event_id', 'proposed_at'], unique=False)
    op.create_index('ix_event_changes_status', 'event_changes', ['status', 'proposed_at', 'id'], unique=False)
    op.create_index('uq_event_changes_pending', 'event_changes', ['event_id'], unique=True,
                    sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('uq_event_changes_pending', table_name='event_changes')
    op.drop_index('ix_event_changes_status', table_name='event_changes')
    op.drop_index('ix_event_changes_event', table_name='event_changes')
    op.drop_table('event_changes')
