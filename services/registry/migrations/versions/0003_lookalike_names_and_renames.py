"""organisations' confusable skeletons; renames kept for a coordinator's review

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 16:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SKELETONS = ("abbreviation", "name", "name_en")


def upgrade() -> None:
    from services.registry.lookalikes import lookalike_key

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        for field in SKELETONS:
            batch_op.add_column(sa.Column(f'{field}_skeleton', sa.Text(), nullable=True))
    # The organisations registered before: their skeletons, computed as the registry does.
    organisations = sa.table('organisations', sa.column('id'), *(sa.column(f) for f in SKELETONS),
                             *(sa.column(f'{f}_skeleton') for f in SKELETONS))
    connection = op.get_bind()
    for row in connection.execute(sa.select(organisations)).mappings().all():
        connection.execute(organisations.update().where(organisations.c.id == row['id']).values(
            **{f'{f}_skeleton': lookalike_key(row[f]) for f in SKELETONS}))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        for field in SKELETONS:
            batch_op.alter_column(f'{field}_skeleton', existing_type=sa.Text(), nullable=False)

    op.create_table('organisation_renames',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('proposed', sa.JSON(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('proposed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organisation_renames', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_renames_organisation', ['organisation_id', 'status'], unique=False)
        batch_op.create_index('ix_organisation_renames_status', ['status', 'proposed_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('organisation_renames', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_renames_status')
        batch_op.drop_index('ix_organisation_renames_organisation')
    op.drop_table('organisation_renames')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        for field in reversed(SKELETONS):
            batch_op.drop_column(f'{field}_skeleton')
