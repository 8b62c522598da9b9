"""the audit log: every decision, hash-chained, append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 16:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

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
    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('occurred_at', shared.db.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', shared.db.UTCDateTime(), nullable=False),
    sa.Column('service', sa.String(length=20), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('key_id', sa.String(length=36), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('subject_kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('message_id')
    )
    op.create_index('ix_audit_entries_recorded', 'audit_entries', ['recorded_at', 'message_id'], unique=False)
    op.create_index('ix_audit_entries_subject', 'audit_entries', ['subject_kind', 'subject_id'], unique=False)
    op.create_index('ix_audit_entries_actor', 'audit_entries', ['actor_id'], unique=False)
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    op.drop_table('audit_head')
    op.drop_index('ix_audit_entries_actor', table_name='audit_entries')
    op.drop_index('ix_audit_entries_subject', table_name='audit_entries')
    op.drop_index('ix_audit_entries_recorded', table_name='audit_entries')
    op.drop_table('audit_entries')
