"""reports' title and text per language: {language: title}, {language: text}"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
# Each column as it was, as a report's own language keeps it (`language` stays: the original one).
COLUMNS = {"title": sa.String(300), "text": sa.Text()}
REPORT_MEDIA = sa.table("report_media", sa.column("report_id"), sa.column("media_id"), sa.column("position"))


def _retype_on_sqlite(to_json: bool) -> None:
    """SQLite changes a type by building the table again, and dropping the old one would break
    report_media's references to it: those rows step aside meanwhile (in this transaction)."""
    connection = op.get_bind()
    links = [dict(row) for row in connection.execute(sa.select(REPORT_MEDIA)).mappings()]
    connection.execute(REPORT_MEDIA.delete())
    with op.batch_alter_table("reports") as batch_op:
        for name, was in COLUMNS.items():
            batch_op.alter_column(name, type_=sa.JSON() if to_json else was,
                                  existing_type=was if to_json else sa.JSON(), existing_nullable=False)
    if links:
        connection.execute(REPORT_MEDIA.insert(), links)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in COLUMNS:
            op.alter_column("reports", name, type_=sa.JSON(), existing_nullable=False,
                            postgresql_using=f"json_build_object(language, {name})")
        return
    # The JSON first (SQLite copies a value into a JSON column as it is), then the type.
    op.execute("UPDATE reports SET title = json_object(language, title), text = json_object(language, text)")
    _retype_on_sqlite(to_json=True)


def downgrade() -> None:
    """Back to one string each: the original language's (a translation is lost)."""
    if op.get_bind().dialect.name == "postgresql":
        for name, was in COLUMNS.items():
            op.alter_column("reports", name, type_=was, existing_nullable=False,
                            postgresql_using=f"COALESCE({name} ->> language, '')")
        return
    op.execute("UPDATE reports SET title = COALESCE(json_extract(title, '$.' || language), ''), "
               "text = COALESCE(json_extract(text, '$.' || language), '')")
    _retype_on_sqlite(to_json=False)
