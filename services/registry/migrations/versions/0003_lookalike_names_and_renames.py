"""organisations' confusable skeletons; renames kept for a coordinator's review"""
import sqlalchemy as sa
from alembic import op

from shared.migrations import create_tables, drop_tables, json, string, table, text, utc, uuid

revision = "0003"
down_revision = "0002"
SKELETONS = ("abbreviation", "name", "name_en")
RENAMES = table("organisation_renames", uuid("id", "organisation_id"), json("proposed", "before"),
                utc("proposed_at"), string(20, "status"), uuid("decided_by?"), utc("decided_at?"), text("reason?"),
                foreign_keys={"organisation_id": "organisations.id"},
                indexes={"ix_organisation_renames_organisation": ("organisation_id", "status"),
                         "ix_organisation_renames_status": ("status", "proposed_at", "id")})


def upgrade() -> None:
    from services.registry.lookalikes import lookalike_key

    with op.batch_alter_table("organisations") as batch_op:
        for column in text(*(f"{field}_skeleton?" for field in SKELETONS)):
            batch_op.add_column(column)
    # The organisations registered before: their skeletons, computed as the registry does.
    organisations = sa.table("organisations", sa.column("id"), *(sa.column(f) for f in SKELETONS),
                             *(sa.column(f"{f}_skeleton") for f in SKELETONS))
    connection = op.get_bind()
    for row in connection.execute(sa.select(organisations)).mappings().all():
        connection.execute(organisations.update().where(organisations.c.id == row["id"]).values(
            **{f"{f}_skeleton": lookalike_key(row[f]) for f in SKELETONS}))
    with op.batch_alter_table("organisations") as batch_op:
        for field in SKELETONS:
            batch_op.alter_column(f"{field}_skeleton", existing_type=sa.Text(), nullable=False)
    create_tables(RENAMES)


def downgrade() -> None:
    drop_tables(RENAMES)
    with op.batch_alter_table("organisations") as batch_op:
        for field in reversed(SKELETONS):
            batch_op.drop_column(f"{field}_skeleton")
