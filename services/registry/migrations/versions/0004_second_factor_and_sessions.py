"""second factors (authenticator apps, recovery codes, passkeys) and sign-in sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('totp_factors',
    sa.Column('holder_kind', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.String(length=36), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=False),
    sa.Column('last_step', sa.BigInteger(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('holder_kind', 'holder_id')
    )
    op.create_table('recovery_codes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('holder_kind', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.String(length=36), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_recovery_codes_holder', 'recovery_codes', ['holder_kind', 'holder_id'], unique=False)
    op.create_table('passkeys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('holder_kind', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.String(length=36), nullable=False),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('credential_id', name='uq_passkeys_credential')
    )
    op.create_index('ix_passkeys_holder', 'passkeys', ['holder_kind', 'holder_id'], unique=False)
    op.create_table('factor_challenges',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('holder_kind', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('challenge', sa.String(length=200), nullable=False),
    sa.Column('expires_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('signin_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('holder_kind', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.String(length=36), nullable=False),
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('secret_digest', sa.String(length=64), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_digest', name='uq_signin_sessions_secret')
    )
    op.create_index('ix_signin_sessions_holder', 'signin_sessions', ['holder_kind', 'holder_id', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_signin_sessions_holder', table_name='signin_sessions')
    op.drop_table('signin_sessions')
    op.drop_table('factor_challenges')
    op.drop_index('ix_passkeys_holder', table_name='passkeys')
    op.drop_table('passkeys')
    op.drop_index('ix_recovery_codes_holder', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_table('totp_factors')
